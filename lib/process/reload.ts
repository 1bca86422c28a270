/**
 * `SIGHUP` (and `systemctl reload`): the settings are read again, from the environment the process
 * started with and the file `SETTINGS_FILE` names, now (a process cannot read its environment
 * again: what is to change lives in the file). All of them are validated first: a bad file leaves
 * the running settings in force and the log says why. Then the live ones (`live_settings.ts`) are
 * applied to every worker, no connection dropped, and any other that changed is named as waiting
 * for a restart.
 *
 * @module
 */

import {
  type Config,
  ConfigErrors,
  type ConfigSources,
  loadConfig,
  type SettingValues,
  settingValues,
} from "../config/config.ts";
import { planReload, type ReloadPlan } from "../config/live_settings.ts";
import { producersOf } from "../config/publish_tokens.ts";
import { withSettingsFile } from "../config/settings_file.ts";
import { errorFields, type Logger } from "../observe/log.ts";
import type { RunningGateway } from "./server.ts";

/** What a reload starts from. */
export interface ReloadOptions {
  /** The environment and the flags, as the process started with them. */
  readonly sources: ConfigSources;
  /** The values the gateway runs with, and their configuration. */
  readonly values: SettingValues;
  readonly config: Config;
  readonly logger: Logger;
}

/** What came of one reload. */
export type ReloadOutcome = "applied" | "unchanged" | "refused" | "failed";

/** What reloads `running`'s settings when called (on `SIGHUP`), one reload at a time. */
export function settingsReloader(running: RunningGateway, options: ReloadOptions): () => void {
  const reloader = new Reloader(running, options);
  let last = Promise.resolve<ReloadOutcome>("unchanged");
  return () => {
    last = last.then(() => reloader.reload()).catch((error): ReloadOutcome => {
      // A worker that did not answer: the next reload tries them all again.
      options.logger.error("settings reload failed", errorFields(error));
      return "failed";
    }).then((outcome) => {
      running.countReload(outcome);
      return outcome;
    });
  };
}

/** Reads, checks and applies the settings of one gateway process. */
class Reloader {
  readonly #running: RunningGateway;
  readonly #sources: ConfigSources;
  readonly #logger: Logger;
  #values: SettingValues;
  #config: Config;

  constructor(running: RunningGateway, options: ReloadOptions) {
    this.#running = running;
    this.#sources = options.sources;
    this.#logger = options.logger;
    this.#values = options.values;
    this.#config = options.config;
  }

  /** One reload; never throws for a bad file or setting. */
  async reload(): Promise<ReloadOutcome> {
    const read = this.#read();
    if (read === undefined) return "refused";
    const { plan, config } = read;
    const changed = [...plan.changed];
    const tokens = (of: Config) => JSON.stringify(producersOf(of));
    // The same path may name a file whose tokens changed.
    if (!changed.includes("PUBLISH_TOKENS_FILE") && tokens(this.#config) !== tokens(config)) {
      changed.push("PUBLISH_TOKENS_FILE");
    }
    if (plan.restartNeeded.length > 0) {
      this.#logger.warn("settings changed that only a restart applies", {
        settings: plan.restartNeeded,
      });
    }
    if (changed.length === 0) {
      this.#logger.info("settings reloaded, nothing live changed");
      return "unchanged";
    }
    await this.#running.reconfigure(plan.values, config);
    this.#values = plan.values;
    this.#config = config;
    this.#logger.info("settings reloaded", { changed });
    return "applied";
  }

  /**
   * The plan and the configuration it makes, once every setting read is valid (as read, and as
   * run: the live ones beside the running rest); else `undefined`, the refusal logged.
   */
  #read(): { readonly plan: ReloadPlan; readonly config: Config } | undefined {
    try {
      const read = settingValues(withSettingsFile(this.#sources));
      loadConfig({ env: (name) => read[name] });
      const plan = planReload(this.#values, read);
      return { plan, config: loadConfig({ env: (name) => plan.values[name] }) };
    } catch (error) {
      if (!(error instanceof ConfigErrors)) throw error;
      this.#logger.error("settings reload refused; the running settings stay", {
        errors: error.errors.map((problem) => problem.message),
      });
      return undefined;
    }
  }
}
