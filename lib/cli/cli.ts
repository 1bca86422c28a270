/**
 * The command line: `tvs-realtime [serve|demo|check-config|publish|status|tail] [flags]`. Every setting of
 * {@link SETTINGS} has a flag named after its variable (`PORT` → `--port`) that overrides the
 * environment. Unknown commands and flags are a {@link UsageError} with a hint.
 *
 * @module
 */

import { RETIRED_SETTINGS, SETTINGS } from "../config/settings.ts";

/** A command line that cannot be run; the message says what to type instead. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What `publish` sends: a `new_trending` message. */
export interface PublishRequest {
  readonly region: string;
  readonly videoId: string;
  readonly title: string;
  readonly thumbnail?: string;
  readonly channel?: string;
  /** Publish through this gateway's `POST /publish` instead of Redis. */
  readonly gateway?: string;
  /** Bearer token for `--gateway`; defaults to `PUBLISH_TOKEN`. */
  readonly token?: string;
}

/** A parsed command line. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
    readonly kind: "serve" | "check-config" | "demo";
    /** Setting values given as flags, by environment variable name. */
    readonly overrides: Readonly<Record<string, string>>;
  }
  | {
    readonly kind: "publish";
    readonly overrides: Readonly<Record<string, string>>;
    readonly request: PublishRequest;
  }
  | {
    readonly kind: "status";
    readonly overrides: Readonly<Record<string, string>>;
    /** The gateway to ask. @default this configuration's port on 127.0.0.1 */
    readonly gateway?: string;
  }
  | {
    readonly kind: "tail";
    readonly overrides: Readonly<Record<string, string>>;
    readonly region: string;
    readonly gateway?: string;
  };

const COMMANDS = ["serve", "check-config", "publish", "demo", "status", "tail"] as const;

/** `--flag` name of a setting's variable: `REDIS_URL` → `redis-url`. */
function flagOf(variable: string): string {
  return variable.toLowerCase().replaceAll("_", "-");
}

const SETTING_FLAGS = new Map(SETTINGS.map((setting) => [flagOf(setting.env), setting.env]));
/** Flags of yes/no settings: given bare they mean true. */
const BOOLEAN_FLAGS = new Set(
  SETTINGS.filter((setting) => "boolean" in setting).map((setting) => flagOf(setting.env)),
);
/** Words a yes/no flag may take as its next argument (`--flag false`). */
const BOOLEAN_WORDS = new Set(["true", "false", "yes", "no", "on", "off", "1", "0"]);
const RETIRED_FLAGS = new Map(
  [...RETIRED_SETTINGS].map(([variable, replacement]) => [flagOf(variable), replacement]),
);

const PUBLISH_FLAGS = {
  region: "Region to publish to (required)",
  "video-id": "video_id of the trending video (required)",
  title: "Title, in any script (required)",
  thumbnail: "https: URL of the thumbnail",
  channel: "Name of the video's channel",
  gateway: "Publish with POST <url>/publish instead of Redis",
  token: "Bearer token for --gateway (default: PUBLISH_TOKEN)",
} as const;

const GATEWAY_FLAG = "Gateway to ask (default: http://127.0.0.1:<PORT>)";

/** The flags of each command besides the settings. */
const COMMAND_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  publish: PUBLISH_FLAGS,
  status: { gateway: GATEWAY_FLAG },
  tail: { region: "Region whose messages to print (required)", gateway: GATEWAY_FLAG },
};

type PublishFlag = keyof typeof PUBLISH_FLAGS;

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function hint(given: string, candidates: readonly string[], prefix = ""): string {
  const best = candidates
    .map((candidate) => ({ candidate, score: distance(given, candidate) }))
    .sort((a, b) => a.score - b.score)[0];
  return best !== undefined && best.score <= 2 ? ` Did you mean ${prefix}${best.candidate}?` : "";
}

/** Parses the arguments after the program name. */
export function parseCommandLine(args: readonly string[]): Command {
  // `deno task publish -- --region AE` passes the "--" along; there are no positionals to end.
  args = args.filter((arg) => arg !== "--");
  if (args.includes("--help") || args.includes("-h")) return { kind: "help" };
  if (args.includes("--version") || args.includes("-V")) return { kind: "version" };
  let rest = [...args];
  let kind: typeof COMMANDS[number] = "serve";
  const first = rest[0];
  if (first !== undefined && !first.startsWith("-")) {
    const command = COMMANDS.find((name) => name === first);
    if (command === undefined) {
      throw new UsageError(`Unknown command "${first}".${hint(first, COMMANDS)} See --help.`);
    }
    kind = command;
    rest = rest.slice(1);
  }
  const overrides: Record<string, string> = {};
  const own: Partial<Record<string, string>> = {};
  const ownFlags = COMMAND_FLAGS[kind] ?? {};
  const known = [...SETTING_FLAGS.keys(), ...Object.keys(ownFlags)];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? "";
    if (!arg.startsWith("--")) throw new UsageError(`Unexpected argument "${arg}". See --help.`);
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    let value: string | undefined = equals === -1 ? undefined : arg.slice(equals + 1);
    const retired = RETIRED_FLAGS.get(name);
    if (retired !== undefined) throw new UsageError(`Flag --${name}: ${retired}.`);
    if (!known.includes(name)) {
      throw new UsageError(`Unknown flag --${name}.${hint(name, known, "--")} See --help.`);
    }
    // A flag never takes the next flag as its value; a yes/no flag may stand alone.
    const next = rest[i + 1];
    if (value === undefined && BOOLEAN_FLAGS.has(name)) {
      const word = next !== undefined && BOOLEAN_WORDS.has(next.toLowerCase());
      value = word ? next : "true";
      if (word) i++;
    } else if (value === undefined) {
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`Flag --${name} needs a value.`);
      }
      value = next;
      i++;
    }
    const variable = SETTING_FLAGS.get(name);
    if (variable !== undefined) overrides[variable] = value;
    else own[name] = value;
  }
  const gateway = own.gateway === undefined ? {} : { gateway: own.gateway };
  if (kind === "status") return { kind, overrides, ...gateway };
  if (kind === "tail") {
    if (own.region === undefined) throw new UsageError("tail needs --region. See --help.");
    return { kind, overrides, region: own.region, ...gateway };
  }
  if (kind !== "publish") return { kind, overrides };
  const publish = own as Partial<Record<PublishFlag, string>>;
  const { region, "video-id": videoId, title } = publish;
  if (region === undefined || videoId === undefined || title === undefined) {
    throw new UsageError("publish needs --region, --video-id and --title. See --help.");
  }
  return {
    kind,
    overrides,
    request: {
      region,
      videoId,
      title,
      ...(publish.thumbnail !== undefined && { thumbnail: publish.thumbnail }),
      ...(publish.channel !== undefined && { channel: publish.channel }),
      ...(publish.gateway !== undefined && { gateway: publish.gateway }),
      ...(publish.token !== undefined && { token: publish.token }),
    },
  };
}

/** The `--help` text. */
export function helpText(version: string): string {
  const settingLines = SETTINGS.map((setting) => {
    const fallback = "fallback" in setting && setting.fallback !== ""
      ? ` (default ${setting.fallback})`
      : "";
    return `  --${flagOf(setting.env).padEnd(27)} ${setting.env}: ${setting.help}${fallback}`;
  });
  const publishLines = Object.entries(PUBLISH_FLAGS).map(([flag, help]) =>
    `  --${flag.padEnd(27)} ${help}`
  );
  return [
    `tvs-realtime ${version}: the real-time gateway of TrendVidStream`,
    "",
    "Usage:",
    "  tvs-realtime [serve] [flags]       Run the gateway (the default command)",
    "  tvs-realtime demo [flags]          Run the gateway with a feed of sample trending videos",
    "  tvs-realtime check-config [flags]  Validate the configuration and print it as an env file",
    "  tvs-realtime publish --region AE --video-id ID --title TITLE [flags]",
    "                                     Publish one new_trending message to Redis or a gateway;",
    "                                     exit 3 when the gateways would drop it as a repeat",
    "  tvs-realtime status [--gateway URL]",
    "                                     Readiness and a summary of /metrics; exit 0 ready,",
    "                                     1 not ready, 69 unreachable",
    "  tvs-realtime tail --region AE [--gateway URL]",
    "                                     Print each message of a region as it arrives, until Ctrl-C",
    "  tvs-realtime --help | --version",
    "",
    "From a clone of the repository, `deno task start --` stands for `tvs-realtime`:",
    "  deno task start -- check-config    deno task start -- tail --region AE",
    "  deno task demo                     deno task publish --region AE --video-id v1 --title Hi",
    "",
    "Settings (flags override the environment variable of the same name; yes/no flags may be",
    "given bare, --publish-insecure-loopback meaning =true):",
    ...settingLines,
    "",
    "publish flags:",
    ...publishLines,
    "",
    "status and tail flags:",
    `  --${"gateway".padEnd(27)} ${GATEWAY_FLAG}`,
    `  --${"region".padEnd(27)} tail: ${COMMAND_FLAGS.tail!.region}`,
    "",
    "Exit status: 0 success, 1 failure, 2 usage error, 3 publish: a repeat, not sent,",
    "78 invalid configuration or a port it cannot listen on.",
  ].join("\n");
}
