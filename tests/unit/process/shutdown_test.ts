import assert from "node:assert/strict";
import { Logger } from "../../../lib/observe/log.ts";
import { waitForShutdown } from "../../../lib/process/shutdown.ts";

/** A gateway that drains at once, noting each drain's window; `failure` settles when it fails. */
function fakeGateway(failure: Promise<string>, drains: number[]) {
  return {
    port: 0,
    publish: () => Promise.resolve(0),
    viewers: () => Promise.resolve({}),
    close: (drainMs = 0) => {
      drains.push(drainMs);
      return Promise.resolve(true);
    },
    reconfigure: () => Promise.resolve(),
    countReload: () => {},
    failure,
  };
}

const noExit = () => {
  throw new Error("exit is for a second signal");
};

Deno.test("a gateway that cannot go on is drained and the process exits 1, saying why", async () => {
  const lines: Record<string, unknown>[] = [];
  const failure = Promise.withResolvers<string>();
  const drains: number[] = [];
  const status = waitForShutdown(fakeGateway(failure.promise, drains), {
    drainMs: 250,
    logger: new Logger("info", (line) => lines.push(JSON.parse(line))),
    exit: noExit,
  });
  failure.resolve("worker 1 died 6 times within 60 s");
  assert.equal(await status, 1);
  assert.deepEqual(drains, [250]);
  assert.deepEqual(lines.map((line) => line.msg), ["cannot go on serving", "stopping", "stopped"]);
  assert.equal(lines[0]?.reason, "worker 1 died 6 times within 60 s");
});

Deno.test("another cause to stop drains the gateway as SIGTERM does, and the log names it", async () => {
  const lines: Record<string, unknown>[] = [];
  const drains: number[] = [];
  const hangup = new AbortController();
  const status = waitForShutdown(fakeGateway(new Promise(() => {}), drains), {
    drainMs: 250,
    logger: new Logger("info", (line) => lines.push(JSON.parse(line))),
    exit: noExit,
    stopOn: hangup.signal,
  });
  hangup.abort({ signal: "SIGHUP", terminal: "hung up" });
  assert.equal(await status, 0);
  assert.deepEqual(drains, [250]);
  assert.deepEqual(lines.map((line) => line.msg), ["stopping", "stopped"]);
  assert.equal(lines[0]?.terminal, "hung up");
});
