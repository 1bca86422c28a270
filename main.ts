/**
 * tvs-realtime: the real-time gateway of TrendVidStream. Producers `PUBLISH tvs:<REGION> <json>`
 * on Redis (or `POST /publish`); every browser connected to `/?region=<REGION>` gets the message as
 * one JSON text frame.
 *
 * @module
 */

import { type Command, helpText, parseCommandLine, UsageError } from "./lib/cli/cli.ts";
import {
  type Config,
  ConfigErrors,
  type ConfigSources,
  configWarnings,
  describeConfig,
  loadConfig,
  settingValues,
} from "./lib/config/config.ts";
import { startDemoFeed } from "./lib/cli/demo_feed.ts";
import { Logger, stdoutSink } from "./lib/observe/log.ts";
import { banner, readableSink } from "./lib/cli/terminal.ts";
import { VERSION } from "./lib/observe/version.ts";
import { runPublish } from "./lib/cli/publish_command.ts";
import { gatewayUrl, runStatus } from "./lib/cli/status_command.ts";
import { runTail } from "./lib/cli/tail_command.ts";
import { operatorToken } from "./lib/cli/operator_token.ts";
import { type RunningGateway, startGateway } from "./lib/process/server.ts";
import { startCluster } from "./lib/process/workers/supervisor.ts";
import { waitForShutdown } from "./lib/process/shutdown.ts";
import { settingsReloader } from "./lib/process/reload.ts";
import { withSettingsFile } from "./lib/config/settings_file.ts";
import { ListenError } from "./lib/process/listen.ts";

/** Exit status of a usage error. */
const EXIT_USAGE = 2;
/** Exit status of a configuration error (sysexits EX_CONFIG): systemd should not restart it. */
const EXIT_CONFIG = 78;

/** Where the settings came from: as the process started, and with the settings file over them. */
interface Sources {
  /** The environment and the flags; a reload (`SIGHUP`) reads the settings file over them again. */
  readonly started: ConfigSources;
  readonly withFile: ConfigSources;
}

/** Serves until a stop signal. */
async function serve(
  config: Config,
  sources: Sources,
  options: { readonly demo: boolean },
): Promise<number> {
  // JSON lines for journald and collectors; lines for reading, and a banner, on a terminal.
  const terminal = Deno.stdout.isTerminal();
  const logger = new Logger(config.logLevel, terminal ? readableSink() : stdoutSink);
  const values = settingValues(sources.withFile);
  let running: RunningGateway;
  try {
    running = config.workers > 1
      ? await startCluster(values, config, logger)
      : await startGateway(config, logger);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    console.error(`tvs-realtime: cannot listen: ${error.message}`);
    return EXIT_CONFIG;
  }
  if (terminal) stdoutSink(banner(config, running.port, options));
  const stopFeed = options.demo
    ? startDemoFeed(running, { regions: config.regions, logger })
    : undefined;
  const reload = settingsReloader(running, { sources: sources.started, values, config, logger });
  const hangup = new AbortController();
  // SIGHUP reloads (`systemctl reload`), unless the terminal the gateway started on has gone
  // (it no longer answers isatty): then it is the kernel's hangup, and a gateway left running
  // would hold its port, unseen, against the next start.
  Deno.addSignalListener("SIGHUP", () => {
    if (terminal && !Deno.stdout.isTerminal()) {
      hangup.abort({ signal: "SIGHUP", terminal: "hung up" });
    } else reload();
  });
  const status = await waitForShutdown(running, {
    drainMs: config.drainSeconds * 1000,
    logger,
    stopOn: hangup.signal,
  });
  stopFeed?.();
  return status;
}

const OUTPUT = { out: console.log, err: console.error };

/** Resolves at the first Ctrl-C (SIGINT) or SIGTERM. */
function interrupted(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, resolve);
  return promise;
}

function run(
  command: Exclude<Command, { kind: "help" | "version" }>,
  config: Config,
  sources: Sources,
) {
  switch (command.kind) {
    case "check-config":
      console.log(describeConfig(config, sources.withFile).join("\n"));
      for (const { variable, message } of configWarnings(config)) {
        console.error(`tvs-realtime: warning: ${variable}: ${message}`);
      }
      return Promise.resolve(0);
    case "publish":
      return runPublish(command.request, config, OUTPUT);
    case "status":
      return runStatus(gatewayUrl(config, command.gateway), OUTPUT);
    case "tail": {
      const token = operatorToken(config, "tail");
      return runTail(gatewayUrl(config, command.gateway), command.region, {
        output: OUTPUT,
        readable: Deno.stdout.isTerminal(),
        stop: interrupted(),
        ...(token !== undefined && { token }),
      });
    }
    case "serve":
    case "demo":
      return serve(config, sources, { demo: command.kind === "demo" });
  }
}

/** Runs the command line `args`; returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`tvs-realtime: ${error.message}`);
    return EXIT_USAGE;
  }
  if (command.kind === "help") {
    console.log(helpText(VERSION));
    return 0;
  }
  if (command.kind === "version") {
    console.log(`tvs-realtime ${VERSION}`);
    return 0;
  }
  const started: ConfigSources = {
    env: (name) => Deno.env.get(name),
    overrides: command.overrides,
  };
  let config: Config;
  let withFile: ConfigSources;
  try {
    withFile = withSettingsFile(started);
    config = loadConfig(withFile);
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    for (const problem of error.errors) {
      console.error(`tvs-realtime: invalid configuration: ${problem.message}`);
    }
    return EXIT_CONFIG;
  }
  return await run(command, config, { started, withFile });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
