/**
 * When publications waiting for room (`queue_gate.ts`) are a reason to close clients. How long
 * they wait is not alone what tells: a pile that came at once (a producer's batch, a pause)
 * shrinks while it is written, however long that takes, and nobody is closed for it. A backlog
 * that keeps ageing without shrinking (it holds as many publications as {@link BACKLOG_WINDOW_MS}
 * before) is one of two things, told apart by whether broadcasts still go out:
 *
 * - **Stalled**: none went out in that window. Clients that do not read hold the queues full and
 *   every viewer waits for them: past {@link BACKLOG_WINDOW_MS}, clients are shed.
 * - **Overloaded**: broadcasts go out, but publications come faster than one core writes them to
 *   every viewer. Every host behind the load balancer gets the same publications, so closing
 *   viewers moves their load more than it removes it: they wait as long as the operator allows
 *   (`OVERLOAD_LAG_SECONDS`) while the memory stays bounded (a waiting publication costs its
 *   payload once), and only then are clients shed.
 *
 * Once shed for, a backlog is shed for again only while it ages past its age at that shedding,
 * and at most every {@link BACKLOG_SHED_EVERY_MS}: the clients left may keep up.
 *
 * @module
 */

/** The publications waiting for room. */
export interface Backlog {
  /** How many wait. */
  readonly waiting: number;
  /** How long the oldest has waited, in ms (0 when none waits). */
  readonly ageMs: number;
}

/**
 * The span over which a backlog must not have shrunk, nor a broadcast gone out, for it to be
 * stalled; in ms. Longer than the gate takes to open and close again (it holds broadcasts until a
 * quarter of the bound has drained to an eighth).
 */
const BACKLOG_WINDOW_MS = 2000;
/** Least time between two sheddings for a backlog, in ms: for the last to take effect. */
const BACKLOG_SHED_EVERY_MS = 500;

/** The backlog and the broadcasts gone out so far, at a check. */
interface BacklogSample {
  readonly at: number;
  readonly waiting: number;
  readonly broadcasts: number;
}

/** Decides, check by check, whether a backlog is stalled or overloaded long enough to shed for. */
export class BacklogRule {
  readonly #overloadLagMs: number;
  /** The backlog at each check since it began, oldest first, trimmed to the window. */
  #samples: BacklogSample[] = [];
  /** When clients were last shed for the backlog, and its age then (0 once none is left). */
  #shedAt = -Infinity;
  #ageAtShed = 0;

  /** A rule that lets an overloaded backlog age `overloadLagMs` before it sheds. */
  constructor(options: { readonly overloadLagMs: number }) {
    this.#overloadLagMs = options.overloadLagMs;
  }

  /**
   * Whether clients are to be shed for `backlog` at `now` (ms), `broadcasts` having gone out so
   * far; a `true` counts as a shedding.
   */
  shouldShed(backlog: Backlog, broadcasts: number, now: number): boolean {
    if (backlog.waiting === 0) {
      this.#samples = [];
      this.#ageAtShed = 0;
      return false;
    }
    const samples = this.#samples;
    samples.push({ at: now, waiting: backlog.waiting, broadcasts });
    while (samples.length > 1 && samples[1]!.at <= now - BACKLOG_WINDOW_MS) samples.shift();
    const then = samples[0]!;
    // Not seen for a whole window yet, or fewer wait than a window ago: it drains by itself.
    if (then.at > now - BACKLOG_WINDOW_MS || backlog.waiting < then.waiting) return false;
    const limitMs = broadcasts > then.broadcasts ? this.#overloadLagMs : BACKLOG_WINDOW_MS;
    // Ageing: older than at the last shedding; one that the clients left keep up with grows no
    // older, and no one more is closed for it.
    const ageing = backlog.ageMs > this.#ageAtShed;
    const settled = now - this.#shedAt >= BACKLOG_SHED_EVERY_MS;
    if (backlog.ageMs <= limitMs || !ageing || !settled) return false;
    this.#shedAt = now;
    this.#ageAtShed = backlog.ageMs;
    return true;
  }
}
