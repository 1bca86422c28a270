/**
 * Structured logs: one JSON object per line on stdout, so journald, Loki or any collector can
 * index the fields. Repetitive events (bad publishes, refused handshakes) go through
 * {@link AggregatedLog}, which writes the first occurrence at once and a count per interval after
 * that, so a flood never becomes a log line per message.
 *
 * @module
 */

/** Log verbosity, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Extra context of a log line. Values must be JSON-serialisable. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where formatted lines go. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();

/**
 * Writes a line to stdout synchronously, so lines survive an immediate `Deno.exit`. A closed or
 * broken stdout (the journal restarting, a pipe reader gone) loses the line, never the process.
 */
export function stdoutSink(line: string): void {
  try {
    const bytes = encoder.encode(line + "\n");
    let written = 0;
    while (written < bytes.byteLength) written += Deno.stdout.writeSync(bytes.subarray(written));
  } catch {
    // Nowhere left to report it.
  }
}

/** A levelled JSON-lines logger. */
export class Logger {
  readonly #threshold: number;
  readonly #sink: LogSink;
  readonly #context: LogFields;

  /**
   * Creates a logger.
   *
   * @param level Least severe level written. @default "info"
   * @param sink Receives each formatted line. @default stdoutSink
   * @param context Fields of every line, such as the worker that writes it. @default {}
   */
  constructor(level: LogLevel = "info", sink: LogSink = stdoutSink, context: LogFields = {}) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
    this.#context = context;
  }

  /** Where the lines go, for another logger to write to the same place (a worker's, say). */
  get sink(): LogSink {
    return this.#sink;
  }

  /** Whether lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /** Writes a debug line. */
  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }

  /** Writes an info line. */
  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }

  /** Writes a warning. */
  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }

  /** Writes an error line. */
  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  #write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.enabled(level)) return;
    this.#sink(
      JSON.stringify({ ts: new Date().toISOString(), level, msg, ...this.#context, ...fields }),
    );
  }
}

/** Turns an unknown thrown value into loggable fields. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.message, errorName: error.name };
  return { error: String(error) };
}

/** Options of {@link AggregatedLog}. */
export interface AggregatedLogOptions {
  /** Level of every line. @default "warn" */
  readonly level?: LogLevel;
  /** Length of one counting window in milliseconds. @default 10000 */
  readonly intervalMs?: number;
}

interface Tally {
  count: number;
  fields: LogFields;
}

/**
 * Logs a repetitive event by key: the first occurrence in a window immediately, the rest as one
 * summary line (`"repeated": n`) when the window ends.
 */
export class AggregatedLog {
  readonly #logger: Logger;
  readonly #msg: string;
  readonly #level: LogLevel;
  readonly #intervalMs: number;
  readonly #tallies = new Map<string, Tally>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Creates an aggregated log writing `msg` lines through `logger`. */
  constructor(logger: Logger, msg: string, options: AggregatedLogOptions = {}) {
    this.#logger = logger;
    this.#msg = msg;
    this.#level = options.level ?? "warn";
    this.#intervalMs = options.intervalMs ?? 10_000;
  }

  /** Records one occurrence of `key`; `fields` of the latest occurrence go in the summary. */
  record(key: string, fields: LogFields): void {
    const tally = this.#tallies.get(key);
    if (tally !== undefined) {
      tally.count++;
      tally.fields = fields;
      return;
    }
    this.#tallies.set(key, { count: 0, fields });
    this.#logger[this.#level](this.#msg, { key, ...fields });
    if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#intervalMs);
      // A pending summary must not keep a finished process (or test) alive.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes the pending summaries and starts a new window. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [key, tally] of this.#tallies) {
      if (tally.count > 0) {
        this.#logger[this.#level](this.#msg, { key, ...tally.fields, repeated: tally.count });
      }
    }
    this.#tallies.clear();
  }
}
