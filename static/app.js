// @ts-check
/**
 * The demo page: a region picker, a connection status, and a toast for every video that starts
 * trending in the region. Message data only ever reaches the page through `textContent` and
 * attributes, never as markup, and thumbnails only from https: URLs (or http on loopback, the
 * demo's). Each toast speaks its region's language.
 *
 * @module
 */

import { TvsClient } from "./tvs-client.js";

/**
 * The languages of each region's toasts, the first one unless the browser prefers another of
 * them (a Belgian page in French, a Swiss one in French). Names of regions and relative times
 * come from `Intl`; only the few words `Intl` does not have are written here.
 */
const LANGUAGES = /** @type {const} */ ({
  AE: ["ar"],
  FI: ["fi"],
  CZ: ["cs"],
  DK: ["da"],
  BE: ["nl-BE", "fr-BE"],
  GB: ["en-GB"],
  CH: ["de-CH", "fr-CH"],
  US: ["en-US"],
});

/**
 * The toast's words by language: the line naming the region (built around the region's name, so
 * that no language needs its name declined) and the dismiss button's label.
 */
const WORDS = /** @type {const} */ ({
  ar: { trending: (/** @type {string} */ name) => `رائج في ${name}`, dismiss: "إغلاق" },
  cs: { trending: (/** @type {string} */ name) => `Populární teď: ${name}`, dismiss: "Zavřít" },
  fi: { trending: (/** @type {string} */ name) => `Nousussa nyt: ${name}`, dismiss: "Sulje" },
  da: { trending: (/** @type {string} */ name) => `Populært i ${name}`, dismiss: "Luk" },
  nl: { trending: (/** @type {string} */ name) => `Trending in ${name}`, dismiss: "Sluiten" },
  fr: { trending: (/** @type {string} */ name) => `Tendances : ${name}`, dismiss: "Fermer" },
  de: { trending: (/** @type {string} */ name) => `Im Trend: ${name}`, dismiss: "Schliessen" },
  en: { trending: (/** @type {string} */ name) => `Trending in ${name}`, dismiss: "Dismiss" },
});

const MAX_TOASTS = 4;
/** How long the page waits for a first toast before saying what to run, in ms. */
const HINT_AFTER_MS = 4000;
const TOAST_MS = 5000;
const STORAGE_KEY = "tvs-region";
const STATUS_TEXT = {
  idle: "Connecting…",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};

/** How the page names the transport of a live connection. */
const TRANSPORT_TEXT = { websocket: "WebSocket", sse: "Server-Sent Events" };

/**
 * A region's language on this page, its name in that language, and the toast's words.
 *
 * @param {string} code
 */
function regionInfo(code) {
  const languages = Object.hasOwn(LANGUAGES, code)
    ? LANGUAGES[/** @type {keyof typeof LANGUAGES} */ (code)]
    : [];
  const preferred = navigator.languages.map((tag) => tag.split("-")[0]);
  const lang = languages.find((tag) => preferred.includes(tag.split("-")[0] ?? "")) ??
    languages[0] ?? "en";
  const base = /** @type {keyof typeof WORDS} */ (lang.split("-")[0]);
  const words = Object.hasOwn(WORDS, base) ? WORDS[base] : WORDS.en;
  let name = code;
  try {
    name = new Intl.DisplayNames([lang], { type: "region" }).of(code) ?? code;
  } catch {
    // Not a region code Intl knows: the code itself.
  }
  return { lang, name, words };
}

/**
 * "5 seconds ago" in `lang`, from a message's `ts` (Unix seconds); empty without one.
 *
 * @param {unknown} ts
 * @param {string} lang
 */
function publishedAgo(ts, lang) {
  if (typeof ts !== "number" || !Number.isFinite(ts)) return "";
  const seconds = Math.max(0, Math.round(Date.now() / 1000 - ts));
  const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  if (seconds < 60) return format.format(-seconds, "second");
  if (seconds < 3600) return format.format(-Math.round(seconds / 60), "minute");
  return format.format(-Math.round(seconds / 3600), "hour");
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function element(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`Missing #${id}`);
  return found;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function make(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {unknown} value @returns {string | null} */
function secureImageUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    return url.protocol === "https:" || (url.protocol === "http:" && loopback) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * One toast: dismissed after TOAST_MS, paused while hovered or focused.
 *
 * @param {Record<string, unknown>} message
 * @param {string} region
 * @returns {HTMLElement}
 */
function toast(message, region) {
  const info = regionInfo(region);
  const dir = message.dir === "rtl" || message.dir === "ltr" ? message.dir : "auto";
  const card = make("article", { class: "toast", dir, tabindex: "0", lang: info.lang });

  const thumb = make("div", { class: "thumb" });
  const src = secureImageUrl(message.thumbnail);
  if (src !== null) {
    const image = make("img", { src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    image.addEventListener("error", () => image.remove());
    thumb.append(image);
  }

  const body = make("div", { class: "toast-body" });
  // The region's line is in the page's language for the region and takes the toast's direction,
  // so every line starts, and in an Arabic toast ends, at the same edge.
  const where = make("p", { class: "where", lang: info.lang }, info.words.trending(info.name));
  const ago = publishedAgo(message.ts, info.lang);
  if (ago !== "") where.append(" · ", make("time", {}, ago));
  // The title is isolated: whatever its script, it cannot reorder what surrounds it.
  const title = make("p", { class: "title" });
  title.append(make("bdi", { dir }, String(message.title ?? "")));
  body.append(where, title);
  if (typeof message.channel === "string" && message.channel !== "") {
    const channel = make("p", { class: "channel" });
    channel.append(make("bdi", {}, message.channel));
    body.append(channel);
  }

  const dismiss = make(
    "button",
    {
      class: "dismiss",
      type: "button",
      "aria-label": info.words.dismiss,
      title: info.words.dismiss,
    },
    "×",
  );
  card.append(thumb, body, dismiss);

  let remaining = TOAST_MS;
  let startedAt = Date.now();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const remove = () => {
    clearTimeout(timer);
    card.remove();
  };
  const run = () => {
    startedAt = Date.now();
    timer = setTimeout(remove, remaining);
  };
  const pause = () => {
    clearTimeout(timer);
    remaining -= Date.now() - startedAt;
  };
  let hovered = false;
  let focused = false;
  const update = (/** @type {() => void} */ change) => {
    const wasPaused = hovered || focused;
    change();
    const paused = hovered || focused;
    if (paused && !wasPaused) pause();
    if (!paused && wasPaused) run();
  };
  card.addEventListener("mouseenter", () => update(() => hovered = true));
  card.addEventListener("mouseleave", () => update(() => hovered = false));
  card.addEventListener("focusin", () => update(() => focused = true));
  card.addEventListener("focusout", (event) => {
    if (!card.contains(/** @type {Node | null} */ (event.relatedTarget))) {
      update(() => focused = false);
    }
  });
  card.addEventListener("keydown", (event) => {
    if (event.key === "Escape") remove();
  });
  dismiss.addEventListener("click", remove);
  run();
  return card;
}

/**
 * @returns {Promise<{
 *   regions: string[], defaultRegion: string, publish: boolean, embeddedBroker: boolean
 * }>}
 */
async function loadConfig() {
  const response = await fetch("/config.json", { cache: "no-store" });
  return await response.json();
}

/** @param {string[]} regions @param {string} fallback */
function chosenRegion(regions, fallback) {
  const asked = new URLSearchParams(location.search).get("region")?.toUpperCase();
  if (asked && regions.includes(asked)) return asked;
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && regions.includes(stored)) return stored;
  return fallback;
}

async function main() {
  const config = await loadConfig();
  const picker = /** @type {HTMLSelectElement} */ (element("region"));
  const status = element("status");
  const toasts = element("toasts");
  for (const code of config.regions) {
    const info = regionInfo(code);
    picker.append(make("option", { value: code, lang: info.lang }, info.name));
  }
  let region = chosenRegion(config.regions, config.defaultRegion);
  picker.value = region;
  const hint = element("hint");
  let arrived = false;
  if (config.embeddedBroker) setTimeout(() => hint.hidden = arrived, HINT_AFTER_MS);

  /** @type {TvsClient | undefined} */
  let client;
  const connect = () => {
    client?.close();
    toasts.replaceChildren();
    client = new TvsClient({ regions: [region] });
    client.addEventListener("status", (event) => {
      const { status: state, transport } = /** @type {CustomEvent} */ (event).detail;
      status.dataset.status = state;
      status.dataset.transport = transport;
      const text = STATUS_TEXT[/** @type {keyof typeof STATUS_TEXT} */ (state)] ?? state;
      const over = TRANSPORT_TEXT[/** @type {keyof typeof TRANSPORT_TEXT} */ (transport)];
      status.textContent = state === "live" ? `${text} · ${over}` : text;
    });
    client.addEventListener("trending", (event) => {
      const message = /** @type {CustomEvent} */ (event).detail;
      arrived = true;
      hint.hidden = true;
      toasts.append(toast(message, region));
      while (toasts.children.length > MAX_TOASTS) toasts.firstElementChild?.remove();
    });
    client.start();
  };

  picker.addEventListener("change", () => {
    region = picker.value;
    localStorage.setItem(STORAGE_KEY, region);
    const url = new URL(location.href);
    url.searchParams.set("region", region);
    history.replaceState(null, "", url);
    connect();
  });
  connect();

  if (config.publish) setUpSendForm(() => region);
}

/** The "send a test notification" form, offered when this browser may publish (local mode). */
function setUpSendForm(/** @type {() => string} */ currentRegion) {
  const form = /** @type {HTMLFormElement} */ (element("send"));
  const result = element("send-result");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const message = {
      event: "new_trending",
      region: currentRegion(),
      video_id: `test-${crypto.randomUUID().slice(0, 8)}`,
      title: String(data.get("title") ?? ""),
      channel: String(data.get("channel") ?? ""),
      ts: Math.floor(Date.now() / 1000),
    };
    const response = await fetch("/publish", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    });
    const answer = await response.json().catch(() => ({}));
    result.textContent = response.ok ? "Sent." : `Not sent: ${answer.message ?? response.status}`;
  });
}

main().catch((error) => {
  const status = document.getElementById("status");
  if (status !== null) {
    status.dataset.status = "stopped";
    status.textContent = `Cannot start: ${error.message}`;
  }
});
