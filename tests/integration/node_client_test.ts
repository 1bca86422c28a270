// The client package under the machine's Node (20: no WebSocket of its own), with the ws package
// passed in as its README says, against a real gateway.
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../support/cli.ts";
import { startTestGateway } from "../support/gateway.ts";

const FIXTURE = `${PROJECT_ROOT}tests/fixtures/node_client`;

/** Installs the fixture's pinned ws with npm, once. */
async function installWs(): Promise<void> {
  const installed = await Deno.stat(`${FIXTURE}/node_modules/ws/package.json`).then(() => true)
    .catch(() => false);
  if (installed) return;
  const result = await new Deno.Command("npm", {
    args: ["ci", "--no-audit", "--no-fund", "--silent"],
    cwd: FIXTURE,
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
}

/** The lines of `stream` as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    const parts = (pending + decoder.decode(chunk, { stream: true })).split("\n");
    pending = parts.pop() ?? "";
    yield* parts;
  }
}

Deno.test("under Node 20 the client refuses to start without a WebSocket, saying what to pass, and receives with ws's", async () => {
  await installWs();
  await using gateway = await startTestGateway();
  const node = new Deno.Command("node", {
    args: ["receive_one.mjs", `${gateway.ws}/ws`, "CZ"],
    cwd: FIXTURE,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const seen: Record<string, unknown>[] = [];
  for await (const line of lines(node.stdout)) {
    const entry = JSON.parse(line);
    seen.push(entry);
    if (entry.status === "live") {
      const message = {
        event: "new_trending",
        region: "CZ",
        video_id: "node1",
        title: "Čau z Node",
      };
      const answer = await fetch(`${gateway.http}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(message),
      });
      assert.equal(answer.status, 202);
      await answer.body?.cancel();
    }
  }
  assert.equal((await node.status).code, 0, JSON.stringify(seen));
  assert.match(String(seen[0]?.refused), /No WebSocket in this runtime.*"ws" package/);
  const trending = seen.find((entry) => "trending" in entry)?.trending as Record<string, unknown>;
  assert.equal(trending.title, "Čau z Node");
  assert.match(String(trending.id), /^CZ:/);
});
