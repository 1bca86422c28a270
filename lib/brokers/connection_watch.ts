/**
 * Notices a connection that went silent: no FIN, no RST, just nothing (a dead NAT entry, a failed
 * switch, a cloud load balancer dropping idle flows). TCP can take many minutes to see it, and a
 * Pub/Sub subscriber that hears nothing looks just like one that has nothing to hear. So the
 * connection is pinged on an interval, one ping at a time; a ping unanswered past the timeout
 * makes it silent. The caller then stops writing to it, so the socket's idle timeout (set a little
 * longer than interval plus timeout) closes it and the client reconnects.
 *
 * @module
 */

/** Options of {@link ConnectionWatch}. */
export interface ConnectionWatchOptions {
  /** Time between two pings of a healthy connection, in ms. */
  readonly intervalMs: number;
  /** How long a ping may go unanswered before the connection is silent, in ms. */
  readonly timeoutMs: number;
  /** Sends one ping; settles when it is answered, or rejects when the connection fails. */
  readonly ping: () => Promise<unknown>;
  /** Whether the connection is up (a ping would be written at once). */
  readonly isReady: () => boolean;
  /** The connection went silent `silentMs` ago. */
  readonly onSilent: (silentMs: number) => void;
  /** A silent connection answered after all. */
  readonly onHeard: () => void;
  /** Clock in ms. @default performance.now */
  readonly now?: () => number;
}

/** Pings one connection and says when it stops answering. */
export class ConnectionWatch {
  readonly #options: ConnectionWatchOptions;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** When the unanswered ping went out, if one is out. */
  #pingSentAt: number | undefined;
  /** Tells the current ping from those of a connection that has since been replaced. */
  #generation = 0;
  #silent = false;

  /** A watch that does nothing before {@link start}. */
  constructor(options: ConnectionWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether the connection stopped answering; cleared by an answer or a new connection. */
  get silent(): boolean {
    return this.#silent;
  }

  /** Starts pinging. */
  start(): void {
    this.#timer ??= setInterval(() => this.check(), this.#options.intervalMs);
  }

  /** Stops pinging. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The connection was (re)established: what was outstanding belonged to the old one. */
  reset(): void {
    this.#generation++;
    this.#pingSentAt = undefined;
    this.#silent = false;
  }

  /** One turn of the watch: pings, or declares the connection silent. Run by the interval. */
  check(): void {
    if (!this.#options.isReady()) return;
    const sentAt = this.#pingSentAt;
    if (sentAt === undefined) {
      this.#ping();
      return;
    }
    const waited = this.#now() - sentAt;
    if (!this.#silent && waited >= this.#options.timeoutMs) {
      this.#silent = true;
      this.#options.onSilent(waited);
    }
  }

  #ping(): void {
    const generation = this.#generation;
    this.#pingSentAt = this.#now();
    this.#options.ping().then(() => {
      if (generation !== this.#generation) return;
      this.#pingSentAt = undefined;
      if (!this.#silent) return;
      this.#silent = false;
      this.#options.onHeard();
    }, () => {
      // The connection failed under the ping: its client reconnects, and reset() follows.
      if (generation === this.#generation) this.#pingSentAt = undefined;
    });
  }
}
