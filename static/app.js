// @ts-check
/**
 * The demo page: a region picker, a connection status, and a toast for every video that starts
 * trending in the region. Message data only ever reaches the page through `textContent` and
 * attributes, never as markup, and thumbnails only from https: URLs.
 *
 * @module
 */

import { TvsClient } from "./tvs-client.js";

/** Native names and languages of the regions the gateway knows. */
const REGIONS = /** @type {const} */ ({
  AE: { name: "الإمارات العربية المتحدة", lang: "ar" },
  FI: { name: "Suomi", lang: "fi" },
  CZ: { name: "Česko", lang: "cs" },
  DK: { name: "Danmark", lang: "da" },
  BE: { name: "België / Belgique", lang: "nl-BE" },
  GB: { name: "United Kingdom", lang: "en-GB" },
  CH: { name: "Schweiz / Suisse", lang: "de-CH" },
  US: { name: "United States", lang: "en-US" },
});

const MAX_TOASTS = 4;
const TOAST_MS = 5000;
const STORAGE_KEY = "tvs-region";
const STATUS_TEXT = {
  idle: "Connecting…",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};

/** @param {string} code */
function regionInfo(code) {
  return Object.hasOwn(REGIONS, code)
    ? REGIONS[/** @type {keyof typeof REGIONS} */ (code)]
    : { name: code, lang: "" };
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
function httpsUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" ? url.href : null;
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
  const card = make("article", { class: "toast", dir, tabindex: "0" });
  if (info.lang) card.lang = info.lang;

  const thumb = make("div", { class: "thumb" });
  const src = httpsUrl(message.thumbnail);
  if (src !== null) {
    const image = make("img", { src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    image.addEventListener("error", () => image.remove());
    thumb.append(image);
  }

  const body = make("div", { class: "toast-body" });
  // The label is English: left-to-right word order, aligned with the toast's start.
  const where = make("p", { class: "where", lang: "en", dir: "ltr" }, "Trending in ");
  where.append(make("bdi", info.lang ? { lang: info.lang } : {}, info.name));
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
    { class: "dismiss", type: "button", "aria-label": "Dismiss" },
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

/** @returns {Promise<{ regions: string[], defaultRegion: string, publish: boolean }>} */
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
    const option = make("option", { value: code }, info.name);
    if (info.lang) option.lang = info.lang;
    picker.append(option);
  }
  let region = chosenRegion(config.regions, config.defaultRegion);
  picker.value = region;

  /** @type {TvsClient | undefined} */
  let client;
  const connect = () => {
    client?.close();
    toasts.replaceChildren();
    client = new TvsClient({ regions: [region] });
    client.addEventListener("status", (event) => {
      const { status: state } = /** @type {CustomEvent} */ (event).detail;
      status.dataset.status = state;
      status.textContent = STATUS_TEXT[/** @type {keyof typeof STATUS_TEXT} */ (state)] ?? state;
    });
    client.addEventListener("trending", (event) => {
      const message = /** @type {CustomEvent} */ (event).detail;
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
