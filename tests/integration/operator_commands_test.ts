// What an operator types: the gateway on a terminal, `status` and `tail`.
import assert from "node:assert/strict";
import { baseEnv, gatewayArgs, PROJECT_ROOT, runCli } from "../support/cli.ts";
import { startRedisGateway, startTestGateway } from "../support/gateway.ts";
import { TEST_SECRET } from "../support/tokens.ts";
import { freePort, waitFor } from "../support/wait.ts";

const decoder = new TextDecoder();

/** Collects a process's output stream as text, as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: string; done: Promise<void> } {
  const sink = { text: "", done: Promise.resolve() };
  sink.done = (async () => {
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
  return sink;
}

/** A gateway on `port` in a pseudo-terminal of script(1), as a developer's shell runs it. */
async function onTerminal(port: number) {
  // `exec`: the gateway is script's own child, which the test signals itself.
  const command = "exec " + [Deno.execPath(), ...gatewayArgs(["--port", String(port)])]
    .map((word) => `'${word}'`).join(" ");
  const terminal = new Deno.Command("script", {
    args: ["-qfec", command, "/dev/null"],
    cwd: PROJECT_ROOT,
    env: { ...baseEnv(), NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const output = collect(terminal.stdout);
  await waitFor(() => output.text.includes("Workers"), { what: "the banner" });
  const children = await Deno.readTextFile(`/proc/${terminal.pid}/task/${terminal.pid}/children`);
  const [gateway] = children.trim().split(" ").map(Number);
  assert.ok(gateway, "the gateway runs under script");
  const running = () => Deno.stat(`/proc/${gateway}`).then(() => true, () => false);
  return { terminal, output, gateway, running };
}

Deno.test("on a terminal the gateway prints readable lines and a banner with the URL to open", async () => {
  const port = await freePort();
  const { terminal, output, gateway } = await onTerminal(port);
  Deno.kill(gateway, "SIGTERM");
  assert.equal((await terminal.status).code, 0, "the gateway stopped on SIGTERM, cleanly");
  await output.done;
  const lines = output.text.split(/\r?\n/);
  assert.ok(
    lines.some((line) => line.trim() === `Page     http://localhost:${port}/?region=AE`),
    output.text,
  );
  assert.ok(lines.some((line) => line.trim() === `Status   http://localhost:${port}/status`));
  assert.ok(
    lines.some((line) =>
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening host=0\.0\.0\.0 port=\d+/.test(line)
    ),
    output.text,
  );
  assert.ok(!output.text.includes('{"ts"'), "no JSON lines on a terminal");
  assert.ok(!output.text.includes("\x1b["), "NO_COLOR is respected");
});

Deno.test("a gateway whose terminal hangs up stops, rather than running on unseen; kill -HUP reloads", async () => {
  const port = await freePort();
  const { terminal, output, gateway, running } = await onTerminal(port);
  try {
    Deno.kill(gateway, "SIGHUP");
    await waitFor(() => output.text.includes("settings reloaded"), { what: "a reload" });
    assert.ok(await running(), "a SIGHUP with the terminal there is a reload");
    // Killed outright, script closes the terminal without a word: the kernel hangs it up.
    terminal.kill("SIGKILL");
    await terminal.status;
    await waitFor(async () => !(await running()), { timeoutMs: 5000, what: "the gateway gone" });
    const refused = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.body?.cancel().then(() => false),
      () => true,
    );
    assert.ok(refused, "nothing listens on its port any more");
  } finally {
    if (await running()) Deno.kill(gateway, "SIGKILL");
    await output.done;
  }
});

Deno.test("status prints readiness and a summary, with an exit status for scripts", async () => {
  await using setup = await startRedisGateway();
  const gateway = setup.gateway.http;
  const ready = await runCli(["status", "--gateway", gateway]);
  assert.equal(ready.code, 0, ready.stderr);
  assert.match(ready.stdout, /^tvs-realtime \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+: ready$/m);
  assert.match(ready.stdout, /^ {2}broker {7}redis, subscribed$/m);
  assert.match(ready.stdout, /^ {2}sockets {6}0 of 10000 \(0\.0%\)$/m);
  await setup.redis.stop();
  await waitFor(async () => !(await setup.gateway.ready()), { what: "not ready without Redis" });
  const notReady = await runCli(["status", "--gateway", gateway]);
  assert.equal(notReady.code, 1);
  assert.match(notReady.stdout, /: not ready \(broker_(reconnecting|connecting)\)$/m);
  assert.match(notReady.stdout, /^ {2}broker {7}redis, not subscribed$/m);
  const port = await freePort();
  const unreachable = await runCli(["status", "--port", String(port)]);
  assert.equal(unreachable.code, 69);
  assert.match(
    unreachable.stderr,
    new RegExp(`cannot reach the gateway at http://127.0.0.1:${port}`),
  );
});

/** `tail --region AE` against `gateway` with `env`, once it says it is live. */
async function startTail(gateway: string, env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: gatewayArgs(["tail", "--region", "AE", "--gateway", gateway]),
    cwd: PROJECT_ROOT,
    env: { ...baseEnv(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  await waitFor(() => stderr.text.includes("tail: live"), { what: "tail live" });
  return { child, stdout, stderr };
}

Deno.test("tail prints each message of its region as it arrives, until Ctrl-C", async () => {
  await using gateway = await startTestGateway();
  const { child, stdout, stderr } = await startTail(gateway.http);
  const trending = (region: string, title: string) =>
    JSON.stringify({ event: "new_trending", region, video_id: `${region}-1`, title });
  await gateway.publish("FI", trending("FI", "Äänekosken yö"));
  await gateway.publish("AE", trending("AE", "هدف رائع في الدقيقة 90؟"));
  await waitFor(() => stdout.text.includes("\n"), { what: "a line" });
  child.kill("SIGINT");
  const { code } = await child.status;
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(code, 0, stderr.text);
  const lines = stdout.text.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(lines.length, 1, "only its region");
  assert.equal(lines[0].title, "هدف رائع في الدقيقة 90؟");
  assert.equal(lines[0].dir, "rtl");
  assert.match(lines[0].id, /^AE:[0-9a-f]{16}$/);

  const refused = await runCli(["tail", "--region", "ZZ", "--gateway", gateway.http]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the gateway refused: unknown_region \(400\)/);
});

Deno.test("where the gateway requires connection tokens, tail signs its own with the secret it shares", async () => {
  const tokens = { CONNECT_TOKEN: "required", CONNECT_TOKEN_SECRET: TEST_SECRET };
  await using gateway = await startTestGateway(tokens);
  const { child, stdout, stderr } = await startTail(gateway.http, tokens);
  await gateway.publish("AE", JSON.stringify({ event: "new_trending", video_id: "t", title: "x" }));
  await waitFor(() => stdout.text.includes("\n"), { what: "a line" });
  child.kill("SIGINT");
  assert.equal((await child.status).code, 0, stderr.text);
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(JSON.parse(stdout.text.trim()).video_id, "t");
  const refused = await runCli(["tail", "--region", "AE", "--gateway", gateway.http]);
  assert.equal(refused.code, 1, "without the secret");
  assert.match(refused.stderr, /the gateway refused: token_required \(401\)/);
});
