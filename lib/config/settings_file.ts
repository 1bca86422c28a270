/**
 * `SETTINGS_FILE`: settings in a file the gateway reads itself, at start and again on `SIGHUP`, in
 * the env-file format (`NAME=value` a line, `#` comments, values optionally in quotes) with the
 * names of the environment. A process cannot read its environment again, so what must change
 * without a restart lives here. The file wins over the environment; flags win over both.
 *
 * @module
 */

import { readBoundedTextFile } from "./bounded_file.ts";
import { CONFIG_VARIABLES, ConfigError, ConfigErrors, type ConfigSources } from "./config.ts";

/** The variable that names the file. */
const SETTINGS_FILE = "SETTINGS_FILE";
/** Largest file read, in bytes. */
const MAX_FILE_BYTES = 256 * 1024;
const LINE = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/;
const KNOWN: ReadonlySet<string> = new Set(CONFIG_VARIABLES);

/** The values of an env-file's `text`; throws naming the first bad line. */
export function parseSettingsFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fail = (why: string) => new Error(`line ${index + 1}: ${why}`);
    const match = LINE.exec(line);
    if (match === null) throw fail("expected NAME=value");
    const [, name = "", value = ""] = match;
    if (name === SETTINGS_FILE) throw fail("SETTINGS_FILE cannot name another file");
    if (!KNOWN.has(name)) throw fail(`${name} is not a setting (a typo?)`);
    if (name in values) throw fail(`${name} is set twice`);
    values[name] = unquote(value, fail);
  }
  return values;
}

/** A value as the env-file format writes it: bare (up to a ` #` comment), or in quotes. */
function unquote(raw: string, fail: (why: string) => Error): string {
  const quote = raw[0];
  if (quote !== '"' && quote !== "'") return raw.replace(/\s+#.*$/, "").trim();
  const end = raw.indexOf(quote, 1);
  if (end === -1) throw fail("a quote is not closed");
  const rest = raw.slice(end + 1).trim();
  if (rest !== "" && !rest.startsWith("#")) throw fail("text after the closing quote");
  return raw.slice(1, end);
}

/**
 * `sources` with the settings of the file `SETTINGS_FILE` names laid over the environment (flags
 * stay on top); `sources` itself when it names none. A file that cannot be read or parsed is a
 * {@link ConfigErrors} naming `SETTINGS_FILE`.
 */
export function withSettingsFile(sources: ConfigSources): ConfigSources {
  const path = sources.overrides?.[SETTINGS_FILE] ?? sources.env(SETTINGS_FILE) ?? "";
  if (path.trim() === "") return sources;
  let file: Record<string, string>;
  try {
    file = parseSettingsFile(readBoundedTextFile(path, MAX_FILE_BYTES));
  } catch (error) {
    throw new ConfigErrors([new ConfigError(SETTINGS_FILE, (error as Error).message)]);
  }
  return { ...sources, env: (name) => file[name] ?? sources.env(name) };
}
