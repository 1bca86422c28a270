import assert from "node:assert/strict";
import { planReload } from "../../../lib/config/live_settings.ts";
import { parseSettingsFile } from "../../../lib/config/settings_file.ts";

Deno.test("a settings file is read as an env file: comments, export, quotes; a bad line is named", () => {
  assert.deepEqual(
    parseSettingsFile(
      [
        "# tvs-realtime",
        "export ALLOWED_ORIGINS=https://a.example   # the site",
        'STATUS_TOKEN="with # inside-0123456789"',
        "MAX_CONNECTIONS_PER_IP='50'",
        "",
      ].join("\n"),
    ),
    {
      ALLOWED_ORIGINS: "https://a.example",
      STATUS_TOKEN: "with # inside-0123456789",
      MAX_CONNECTIONS_PER_IP: "50",
    },
  );
  const bad: [string, RegExp][] = [
    ["ALLOWED_ORIGIN=x", /^line 1: ALLOWED_ORIGIN is not a setting/],
    ["PORT=1\nPORT=2", /^line 2: PORT is set twice/],
    ["just words", /^line 1: expected NAME=value/],
    ['STATUS_TOKEN="open', /^line 1: a quote is not closed/],
    ["SETTINGS_FILE=/etc/other", /cannot name another file/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseSettingsFile(text), (error: Error) => message.test(error.message));
  }
});

Deno.test("a reload applies the live settings as read and keeps the rest, naming them", () => {
  const plan = planReload(
    { PORT: "8765", ALLOWED_ORIGINS: "https://a.example", STATUS_TOKEN: "s-0123456789abcdef" },
    { PORT: "9000", ALLOWED_ORIGINS: "https://b.example", HISTORY_SIZE: "7" },
  );
  assert.deepEqual(plan.values, { PORT: "8765", ALLOWED_ORIGINS: "https://b.example" });
  assert.deepEqual(new Set(plan.changed), new Set(["ALLOWED_ORIGINS", "STATUS_TOKEN"]));
  assert.deepEqual(new Set(plan.restartNeeded), new Set(["PORT", "HISTORY_SIZE"]));
});
