// The operators' status page: polls /status.json every second and draws what it says. Rates and
// charts are computed here from the counters, so the gateway keeps no history for the page.

const POLL_MS = 1000;
/** Points per chart: the last minute. */
const HISTORY = 60;
const TOKEN_KEY = "tvs-status-token";
const SVG = "http://www.w3.org/2000/svg";

const byId = (id) => document.getElementById(id);

/** Chart series by key ("subscribers:AE"), newest last. */
const series = new Map();
/** The previous report, for rates. */
let previous = null;

function push(key, value) {
  const points = series.get(key) ?? [];
  points.push(value);
  if (points.length > HISTORY) points.shift();
  series.set(key, points);
  return points;
}

/** Per second between two counter readings; a counter that went back (a worker replaced) is 0. */
function rate(now, before, elapsedMs) {
  if (before === undefined || elapsedMs <= 0) return 0;
  return Math.max(0, now - before) / (elapsedMs / 1000);
}

function sparkline(points, label) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${HISTORY - 1} 20`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const top = Math.max(1, ...points);
  const offset = HISTORY - points.length;
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute(
    "points",
    points.map((value, i) => `${offset + i},${(20 - (value / top) * 19 - 0.5).toFixed(2)}`).join(
      " ",
    ),
  );
  svg.append(line);
  return svg;
}

function figure(value, points, label) {
  const cell = document.createElement("div");
  cell.className = "figure";
  const output = document.createElement("output");
  output.textContent = value;
  cell.append(output, sparkline(points, label));
  return cell;
}

function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(seconds) {
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function ago(at, now) {
  return `${formatDuration(Math.max(0, (now - at) / 1000))} ago`;
}

function cell(...content) {
  const td = document.createElement("td");
  td.append(...content);
  return td;
}

function lastMessageCell(message, now) {
  if (message === null) {
    return cell(Object.assign(document.createElement("span"), {
      className: "muted",
      textContent: "none yet",
    }));
  }
  const title = document.createElement("span");
  title.className = "last-title";
  title.textContent = message.title ?? message.videoId ?? message.event;
  if (message.dir === "rtl" || message.dir === "ltr") title.dir = message.dir;
  const meta = document.createElement("span");
  meta.className = "last-meta";
  const time = document.createElement("time");
  time.dateTime = new Date(message.at).toISOString();
  time.textContent = `${new Date(message.at).toLocaleTimeString()} (${ago(message.at, now)})`;
  meta.append(time, ` · ${message.dir ?? "no title"} · ${message.videoId ?? message.event}`);
  return cell(title, meta);
}

function renderHeader(report) {
  byId("version").textContent = `v${report.version}`;
  byId("uptime").textContent = `up ${formatDuration(report.generatedAt / 1000 - report.startedAt)}`;
  byId("memory").textContent = `RSS ${formatBytes(report.residentBytes)}`;
  const { websocket, sse } = report.transports;
  byId("transports").textContent = `${websocket} WebSocket · ${sse} Server-Sent Events`;
  const broker = byId("broker");
  broker.dataset.state = report.broker.connected ? "ok" : "bad";
  broker.textContent = `${report.broker.kind === "redis" ? "Redis" : "Embedded broker"}: ${
    report.broker.connected ? "subscribed" : "not subscribed"
  }`;
  const ready = byId("ready");
  ready.dataset.state = report.ready ? "ok" : "bad";
  ready.textContent = report.ready ? "Ready" : `Not ready: ${report.notReady}`;
  if (report.draining) ready.textContent = "Draining";
  byId("updated").textContent = `Updated ${new Date(report.generatedAt).toLocaleTimeString()}`;
}

function renderLimits(report) {
  byId("limits").replaceChildren(...report.limits.map((limit) => {
    const box = document.createElement("div");
    box.className = "limit";
    box.dataset.setting = limit.setting;
    const share = limit.limit > 0 ? limit.used / limit.limit : 0;
    const format = limit.unit === "bytes" ? formatBytes : String;
    const title = document.createElement("p");
    title.textContent = limit.setting;
    const meter = document.createElement("meter");
    Object.assign(meter, { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 0, value: share });
    const figures = document.createElement("p");
    figures.textContent = `${format(limit.used)} of ${format(limit.limit)} ${
      limit.unit === "sockets" ? "sockets" : ""
    } (${(share * 100).toFixed(1)}%)`;
    box.append(title, meter, figures);
    return box;
  }));
}

function renderRegions(report, elapsedMs) {
  byId("regions").replaceChildren(...report.regions.map((region) => {
    const before = previous?.regions.find((r) => r.region === region.region);
    const perSecond = rate(region.deliveries, before?.deliveries, elapsedMs);
    const row = document.createElement("tr");
    row.dataset.region = region.region;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = region.region;
    row.append(
      name,
      cell(figure(
        region.subscribers,
        push(`subscribers:${region.region}`, region.subscribers),
        `${region.region} subscribers, last minute`,
      )),
      cell(figure(
        perSecond.toFixed(perSecond < 10 ? 1 : 0),
        push(`deliveries:${region.region}`, perSecond),
        `${region.region} deliveries per second, last minute`,
      )),
      lastMessageCell(region.lastMessage, report.generatedAt),
    );
    return row;
  }));
}

function renderWorkers(report, elapsedMs) {
  byId("workers-section").hidden = report.workers.length === 0;
  byId("workers").replaceChildren(...report.workers.map((worker) => {
    const before = previous?.workers.find((w) => w.worker === worker.worker);
    const perSecond = rate(worker.deliveries, before?.deliveries, elapsedMs);
    const row = document.createElement("tr");
    row.dataset.worker = worker.worker;
    row.append(
      cell(String(worker.worker)),
      cell(figure(worker.sockets, push(`sockets:${worker.worker}`, worker.sockets), "sockets")),
      cell(formatBytes(worker.queuedBytes)),
      cell(perSecond.toFixed(1)),
      cell(formatBytes(worker.heapUsedBytes)),
    );
    return row;
  }));
}

/** One refusal as a list item: when, what, why, what was said (and how many of its kind). */
function refusalItem(refusal, count) {
  const item = document.createElement("li");
  const time = document.createElement("time");
  time.dateTime = new Date(refusal.at).toISOString();
  time.textContent = new Date(refusal.at).toLocaleTimeString();
  const kind = document.createElement("span");
  kind.textContent = refusal.kind.replace("_", " ") +
    (refusal.region ? ` ${refusal.region}` : "");
  const reason = document.createElement("code");
  reason.textContent = count === undefined ? refusal.reason : `${refusal.reason} ×${count}`;
  const detail = document.createElement("span");
  detail.textContent = count === undefined ? refusal.detail : `latest: ${refusal.detail}`;
  item.append(time, kind, reason, detail);
  return item;
}

function renderRefusals(report) {
  byId("no-refusals").hidden = report.refusals.length > 0;
  byId("refusals").replaceChildren(...report.refusals.map((refusal) => refusalItem(refusal)));
  byId("no-refusal-counts").hidden = report.refusalCounts.length > 0;
  byId("refusal-counts").replaceChildren(
    ...report.refusalCounts.map((entry) => refusalItem(entry.latest, entry.count)),
  );
}

function render(report) {
  const elapsedMs = previous === null ? 0 : report.generatedAt - previous.generatedAt;
  renderHeader(report);
  renderLimits(report);
  renderRegions(report, elapsedMs);
  renderWorkers(report, elapsedMs);
  renderRefusals(report);
  previous = report;
}

function askForToken() {
  byId("report").hidden = true;
  byId("login").hidden = false;
  byId("updated").textContent = "Needs the token";
}

async function poll() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const response = await fetch("/status.json", {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken();
      return;
    }
    if (!response.ok) throw new Error(`status ${response.status}`);
    byId("login").hidden = true;
    byId("report").hidden = false;
    render(await response.json());
  } catch (error) {
    byId("updated").textContent = `Gateway unreachable (${error.message}); retrying`;
  }
  setTimeout(poll, POLL_MS);
}

byId("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, new FormData(event.target).get("token"));
  poll();
});

poll();
