import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import { loadConfig } from "../../../lib/config/config.ts";
import { banner, readableLine } from "../../../lib/cli/terminal.ts";

Deno.test("a log line for reading: time, level, message, then the fields as key=value", () => {
  const json = JSON.stringify({
    ts: "2026-12-04T19:05:45.514Z",
    level: "warn",
    msg: "publication rejected",
    region: "AE",
    detail: "title must be a string",
    repeated: 3,
  });
  const line = stripVTControlCharacters(readableLine(json));
  assert.equal(
    line,
    '19:05:45.514 WARN  publication rejected region=AE detail="title must be a string" repeated=3',
  );
  assert.equal(readableLine("not json"), "not json", "anything else is written as it came");
});

Deno.test("the banner names the URLs to open, on localhost for a wildcard address", () => {
  const config = loadConfig({ env: (name) => ({ PUBLISH_TOKEN: "0123456789abcdef" })[name] });
  const text = stripVTControlCharacters(banner(config, 8765));
  assert.match(text, /Page {5}http:\/\/localhost:8765\/\?region=AE/);
  assert.match(text, /Status {3}http:\/\/localhost:8765\/status/);
  assert.match(text, /Publish {2}POST \/publish with the bearer token/);
  const local = loadConfig({ env: (name) => ({ HOST: "::1", REGIONS: "GB,US" })[name] });
  assert.match(banner(local, 9000), /http:\/\/\[::1\]:9000\/\?region=US/);
});

Deno.test("with the embedded broker and no demo feed the banner says what to run to see a toast", () => {
  const embedded = loadConfig({ env: () => undefined });
  const text = stripVTControlCharacters(banner(embedded, 8765));
  assert.match(text, /Try {6}nothing publishes here yet: `deno task demo`/);
  assert.match(text, /deno task publish --region AE/);
  assert.doesNotMatch(stripVTControlCharacters(banner(embedded, 8765, { demo: true })), /Try/);
  const redis = loadConfig({ env: (name) => ({ REDIS_URL: "redis://cache:6379" })[name] });
  assert.doesNotMatch(stripVTControlCharacters(banner(redis, 8765)), /Try/);
});
