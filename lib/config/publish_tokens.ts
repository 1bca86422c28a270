/**
 * Named publish tokens (`PUBLISH_TOKENS_FILE`): one producer a line, `name:token` or
 * `name:token:AE,GB` to limit it to regions, `#` comments and blank lines ignored. The name, never
 * the token, is what logs and `tvs_publish_requests_total{producer}` show, so a stolen or leaking
 * token is traced to its producer and revoked alone. A bad line stops the start with its number,
 * never its token.
 *
 * @module
 */

import { readBoundedTextFile } from "./bounded_file.ts";
import { optionalToken } from "./setting_parsers.ts";

/** One producer's token. */
export interface PublishToken {
  /** Who holds it, for logs and metrics. */
  readonly name: string;
  readonly token: string;
  /** The regions it may publish to; `null` for any. */
  readonly regions: readonly string[] | null;
}

/** The name `PUBLISH_TOKEN`'s single token is known by. */
export const DEFAULT_PRODUCER = "default";

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const REGION = /^[A-Z][A-Z0-9]{1,7}$/;
/** Most producers one file names: a file far longer is not a token list. */
const MAX_TOKENS = 1000;
/** Largest file read, in bytes. */
const MAX_FILE_BYTES = 256 * 1024;

/** The tokens of a file's text; throws naming the first bad line. */
export function parsePublishTokens(text: string): PublishToken[] {
  const tokens: PublishToken[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fail = (why: string) => new TypeError(`line ${index + 1}: ${why}`);
    const [name = "", token = "", regions, ...rest] = line.split(":");
    if (rest.length > 0) throw fail("expected name:token or name:token:REGIONS");
    if (!NAME.test(name)) {
      throw fail("a name is 1 to 32 of a-z 0-9 _ -, starting with a letter or digit");
    }
    try {
      optionalToken(token);
    } catch (error) {
      throw fail(`the token of ${name}: ${(error as Error).message}`);
    }
    if (token === "") throw fail(`${name} has no token`);
    const allowed = regions === undefined
      ? null
      : regions.split(",").map((region) => region.trim().toUpperCase());
    if (allowed !== null && !allowed.every((region) => REGION.test(region))) {
      throw fail(`the regions of ${name} are not a list like AE,GB`);
    }
    if (tokens.some((other) => other.name === name)) throw fail(`${name} is named twice`);
    if (tokens.some((other) => other.token === token)) {
      throw fail(`${name} has the token of another producer`);
    }
    tokens.push({ name, token, regions: allowed });
    if (tokens.length > MAX_TOKENS) throw fail(`more than ${MAX_TOKENS} producers`);
  }
  return tokens;
}

/** A file of named publish tokens, as read at start-up. */
export interface PublishTokenFile {
  readonly path: string;
  readonly producers: readonly PublishToken[];
}

/** The tokens of the file at `path` (unset: none); throws with why it cannot be read or used. */
export function readPublishTokens(path: string): PublishTokenFile | null {
  if (path.trim() === "") return null;
  const tokens = parsePublishTokens(readBoundedTextFile(path, MAX_FILE_BYTES));
  if (tokens.length === 0) throw new TypeError(`${path} names no producer`);
  return { path, producers: tokens };
}

/** What {@link publishTokenErrors} and {@link producersOf} read. */
interface PublishSettings {
  readonly publishToken?: string | null;
  readonly publishTokensFile?: PublishTokenFile | null;
  readonly statusToken?: string | null;
  readonly regions?: readonly string[];
}

/**
 * Every producer that may publish: those of the file and, by the name {@link DEFAULT_PRODUCER},
 * the holder of `PUBLISH_TOKEN`.
 */
export function producersOf(settings: PublishSettings): PublishToken[] {
  const producers = [...settings.publishTokensFile?.producers ?? []];
  const single = settings.publishToken ?? null;
  if (single !== null) producers.push({ name: DEFAULT_PRODUCER, token: single, regions: null });
  return producers;
}

/** Publish settings that cannot work together, as `[variable, message]`. */
export function publishTokenErrors(settings: PublishSettings): [string, string][] {
  const errors: [string, string][] = [];
  const file = settings.publishTokensFile ?? null;
  if (file === null) return statusTokenErrors(settings, errors);
  const single = settings.publishToken ?? null;
  for (const producer of file.producers) {
    const unknown = producer.regions?.find((region) => !settings.regions?.includes(region));
    if (unknown !== undefined && settings.regions !== undefined) {
      errors.push(["PUBLISH_TOKENS_FILE", `${producer.name} names ${unknown}, not in REGIONS`]);
    }
    if (single !== null && producer.name === DEFAULT_PRODUCER) {
      errors.push([
        "PUBLISH_TOKENS_FILE",
        `"${DEFAULT_PRODUCER}" is PUBLISH_TOKEN's name: call the producer something else`,
      ]);
    }
    if (single !== null && producer.token === single) {
      errors.push([
        "PUBLISH_TOKEN",
        `Is also the token of ${producer.name} in PUBLISH_TOKENS_FILE`,
      ]);
    }
  }
  return statusTokenErrors(settings, errors);
}

/** `STATUS_TOKEN` must not also publish, or the page's token would be a publisher's. */
function statusTokenErrors(
  settings: PublishSettings,
  errors: [string, string][],
): [string, string][] {
  const status = settings.statusToken ?? null;
  if (status !== null && producersOf(settings).some((producer) => producer.token === status)) {
    errors.push(["STATUS_TOKEN", "Is also a publish token: it must only read the status"]);
  }
  return errors;
}
