/**
 * The gateway's version, from `deno.json`, for `--version`, `tvs_build_info` and the status page.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** The version of this build, as `deno.json` says it. */
export const VERSION: string = denoJson.version;
