// docs/operations.md lists every setting with its default; this keeps the list the code's.
import assert from "node:assert/strict";
import { SETTINGS } from "../../../lib/config/settings.ts";
import { PROJECT_ROOT } from "../../support/cli.ts";

Deno.test("the settings table of docs/operations.md names every setting, in order, with its default", async () => {
  const text = await Deno.readTextFile(`${PROJECT_ROOT}docs/operations.md`);
  const section = text.slice(text.indexOf("## Settings"), text.indexOf("## One binary"));
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` +\| ([^|]+?) +\|/gm)].map((match) => ({
    variable: match[1]!,
    fallback: match[2]!,
  }));
  const expected = SETTINGS.map((setting) => ({
    variable: setting.env,
    fallback: "fallback" in setting && setting.fallback !== ""
      ? `\`${setting.fallback}\``
      : "unset",
  }));
  assert.deepEqual(rows, expected);
});
