// What Prometheus users run against the gateway: promtool on a live scrape, the shipped alert
// rules and their unit tests, and the Grafana dashboard's queries against what the gateway exports.
import assert from "node:assert/strict";
import { startTestCluster, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { PROJECT_ROOT } from "../support/cli.ts";
import { metricValue } from "../support/metrics.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const PROMETHEUS_DIR = `${PROJECT_ROOT}deploy/prometheus`;

/** Runs Debian's promtool (package prometheus) with `args`, `stdin` on its input. */
async function promtool(
  args: string[],
  options: { readonly stdin?: string; readonly cwd?: string } = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args,
    cwd: options.cwd ?? PROMETHEUS_DIR,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: (decoder.decode(stdout) + decoder.decode(stderr)).trim() };
}

/** Makes every kind of event happen once, so the scrape has samples of each, then scrapes. */
async function scrapeAfterActivity(gateway: TestGateway): Promise<string> {
  await using client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  // The client sees its socket open a moment before the gateway has it subscribed.
  await waitFor(
    async () => metricValue(await gateway.metricsText(), 'tvs_subscriptions{region="AE"}') === 1,
    { what: "the client subscribed" },
  );
  const publish = (body: string) =>
    fetch(`${gateway.http}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }).then((response) => response.body?.cancel());
  const ts = Math.floor(Date.now() / 1000);
  await publish(
    JSON.stringify({ event: "new_trending", region: "AE", video_id: "m1", title: "هدف", ts }),
  );
  await publish("{not json");
  await gateway.publish("AE", "{not json");
  await fetch(`${gateway.http}/?region=ZZ`, { headers: { upgrade: "websocket" } })
    .then((r) => r.body?.cancel());
  await client.waitForFrames(1);
  return await gateway.metricsText();
}

/** Names of the metric families a scrape declares (`# TYPE name kind`), with their kinds. */
function exportedFamilies(scrape: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
  return families;
}

/** Whether `name`, as a query writes it, is a series of one of `families`. */
function isExported(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const family = name.replace(/_(bucket|sum|count)$/, "");
  return family !== name && families.get(family) === "histogram";
}

/** The metric names a PromQL expression reads: everything of ours or of the process's. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:tvs|nodejs|process)_[a-z0-9_]+/g)].map((match) => match[0]);
}

for (const workers of [1, 2]) {
  Deno.test(`promtool check metrics passes on a live scrape (${workers} worker${workers === 1 ? "" : "s"})`, async () => {
    await using gateway = workers === 1 ? await startTestGateway() : await startTestCluster();
    await waitFor(() => gateway.ready(), { what: "ready" });
    const scrape = await scrapeAfterActivity(gateway);
    const { code, output } = await promtool(["check", "metrics"], { stdin: scrape });
    assert.equal(code, 0, output);
    assert.equal(output, "", "no lint finding");
    assert.match(scrape, /^tvs_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    assert.match(
      scrape,
      /^tvs_publish_requests_total\{result="invalid_message",producer="loopback"\} 1$/m,
    );
    // Every worker hands the message to its own clients, and observes that.
    assert.match(
      scrape,
      new RegExp(`^tvs_delivery_lag_seconds_count\\{from="producer"\\} ${workers}$`, "m"),
    );
  });
}

Deno.test("the shipped alert rules and Prometheus configuration pass promtool check", async () => {
  const rules = await promtool(["check", "rules", "alerts.yml"]);
  assert.equal(rules.code, 0, rules.output);
  assert.match(rules.output, /SUCCESS: 13 rules found/);
  const config = await promtool(["check", "config", "prometheus.yml"]);
  assert.equal(config.code, 0, config.output);
});

Deno.test("every alert fires when it should and stays quiet when not (promtool test rules)", async () => {
  const { code, output } = await promtool(["test", "rules", "alerts_test.yml"]);
  assert.equal(code, 0, output);
  const rules = await Deno.readTextFile(`${PROMETHEUS_DIR}/alerts.yml`);
  const tests = await Deno.readTextFile(`${PROMETHEUS_DIR}/alerts_test.yml`);
  for (const [, alert] of rules.matchAll(/- alert: (\S+)/g)) {
    assert.match(tests, new RegExp(`alertname: ${alert}\\n`), `${alert} has a unit test`);
  }
});

Deno.test("every query of the dashboard and the alerts is valid PromQL on metrics the gateway exports", async () => {
  await using cluster = await startTestCluster();
  await waitFor(() => cluster.ready(), { what: "ready" });
  const families = exportedFamilies(await scrapeAfterActivity(cluster));
  const dashboard = JSON.parse(
    await Deno.readTextFile(`${PROJECT_ROOT}deploy/grafana/tvs-realtime.json`),
  );
  const panels: { title: string; targets: { expr: string }[] }[] = dashboard.panels;
  const queries = panels.flatMap((panel) =>
    panel.targets.map((target) => ({ where: panel.title, expr: target.expr }))
  );
  const rules = await Deno.readTextFile(`${PROMETHEUS_DIR}/alerts.yml`);
  for (const [, alert, expr] of rules.matchAll(/- alert: (\S+)\n\s+expr: (.+)/g)) {
    queries.push({ where: alert!, expr: expr! });
  }
  assert.ok(queries.length > 40, `${queries.length} queries`);
  for (const { where, expr } of queries) {
    const names = metricNames(expr);
    assert.ok(names.length > 0 || expr.startsWith("up{"), `${where} reads a metric: ${expr}`);
    for (const name of names) {
      assert.ok(isExported(name, families), `${where}: ${name} is not exported`);
    }
  }
  // promtool parses a rules file's expressions: the dashboard's, as recording rules, with
  // Grafana's variables given values.
  const recording = queries.map(({ expr }, i) => {
    const concrete = expr.replaceAll("$__rate_interval", "5m").replaceAll("$job", "tvs-realtime")
      .replaceAll("$instance", ".*");
    return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(concrete)}`;
  });
  const directory = await Deno.makeTempDir();
  await using _ = {
    [Symbol.asyncDispose]: () => Deno.remove(directory, { recursive: true }),
  };
  await Deno.writeTextFile(
    `${directory}/queries.yml`,
    `groups:\n  - name: queries\n    rules:\n${recording.join("\n")}\n`,
  );
  const checked = await promtool(["check", "rules", "queries.yml"], { cwd: directory });
  assert.equal(checked.code, 0, checked.output);
});
