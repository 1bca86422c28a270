/**
 * What the status page shows that no metric holds: the last message of each region and the
 * latest refusals with their reasons. Kept at the cost of a reference per message (the body is
 * read only when someone asks), and a bounded list of refusals.
 *
 * Only refusals of a source that proved who it is (a producer on Redis, a request with the
 * publish token) are listed one by one. Anyone can make the gateway refuse a handshake or an
 * anonymous publish, as often as they like: those are counted by kind and reason, with the latest
 * of each, so a flood of them cannot push the producers' refusals off the list.
 *
 * @module
 */

/** The last message of a region, as the status page lists it. */
export interface LastMessage {
  /** When it went out, Unix ms. */
  readonly at: number;
  readonly event: string;
  readonly videoId: string | null;
  readonly title: string | null;
  /** The title's direction, as clients get it. */
  readonly dir: string | null;
}

/** Where a refusal happened. */
export type RefusalKind = "publication" | "handshake" | "publish_request";

/** One refusal: a publication rejected, a handshake or an HTTP publish refused. */
export interface Refusal {
  /** Unix ms. */
  readonly at: number;
  readonly kind: RefusalKind;
  /** The metric's reason or result label. */
  readonly reason: string;
  /** The region, where there is one. */
  readonly region?: string;
  /** What the client or the producer was told, or the log's detail. */
  readonly detail: string;
}

/** Refusals of one kind and reason from sources that did not say who they are. */
export interface RefusalCount {
  readonly kind: RefusalKind;
  readonly reason: string;
  readonly count: number;
  /** The latest one. */
  readonly latest: Refusal;
}

/** What {@link RecentActivity.snapshot} gives, and what a process of workers merges. */
export interface ActivitySnapshot {
  /** The last message of each region that had one. */
  readonly lastMessages: Readonly<Record<string, LastMessage>>;
  /** The latest refusals of known sources, newest first. */
  readonly refusals: readonly Refusal[];
  /** Refusals of anonymous sources, by kind and reason, the latest first. */
  readonly refusalCounts: readonly RefusalCount[];
}

/** How many refusals are kept. */
export const RECENT_REFUSALS = 20;

function stringField(object: Record<string, unknown>, name: string): string | null {
  const value = object[name];
  return typeof value === "string" ? value : null;
}

/** The last messages and refusals of one gateway. */
export class RecentActivity {
  readonly #last = new Map<string, { readonly at: number; readonly body: string }>();
  /** A ring of the latest refusals; `#next` is where the next one goes. */
  readonly #refusals: Refusal[] = [];
  #next = 0;
  /** Anonymous refusals by kind and reason: as many entries as there are reasons, no more. */
  readonly #counts = new Map<string, { count: number; latest: Refusal }>();

  /** Notes that `body` (a message's JSON) went out on `region` at `at` (Unix ms). */
  sent(region: string, body: string, at: number): void {
    this.#last.set(region, { at, body });
  }

  /** Notes a refusal of a source that proved who it is, now: it is listed. */
  refused(refusal: Omit<Refusal, "at">): void {
    const entry = { at: Date.now(), ...refusal };
    if (this.#refusals.length < RECENT_REFUSALS) this.#refusals.push(entry);
    else this.#refusals[this.#next] = entry;
    this.#next = (this.#next + 1) % RECENT_REFUSALS;
  }

  /** Notes a refusal of an anonymous source, now: it is counted with others of its reason. */
  counted(refusal: Omit<Refusal, "at">): void {
    const key = `${refusal.kind} ${refusal.reason}`;
    const latest = { at: Date.now(), ...refusal };
    const entry = this.#counts.get(key);
    if (entry === undefined) this.#counts.set(key, { count: 1, latest });
    else {
      entry.count++;
      entry.latest = latest;
    }
  }

  /** The last message of each region and the latest refusals. */
  snapshot(): ActivitySnapshot {
    const lastMessages: Record<string, LastMessage> = {};
    for (const [region, { at, body }] of this.#last) {
      const message = JSON.parse(body) as Record<string, unknown>;
      lastMessages[region] = {
        at,
        event: stringField(message, "event") ?? "",
        videoId: stringField(message, "video_id"),
        title: stringField(message, "title"),
        dir: stringField(message, "dir"),
      };
    }
    const refusalCounts = [...this.#counts.values()].map(({ count, latest }) => ({
      kind: latest.kind,
      reason: latest.reason,
      count,
      latest,
    }));
    return { lastMessages, refusals: newestFirst(this.#refusals), refusalCounts };
  }
}

function newestFirst(refusals: readonly Refusal[]): Refusal[] {
  return [...refusals].sort((a, b) => b.at - a.at).slice(0, RECENT_REFUSALS);
}

/**
 * The activity of a process of workers. Every worker sees every publication, so the last message
 * of a region is the latest any saw; each refusal happened in one worker, except a rejected
 * publication, which every worker rejects alike: those are the first worker's.
 */
export function mergeActivity(snapshots: readonly ActivitySnapshot[]): ActivitySnapshot {
  const lastMessages: Record<string, LastMessage> = {};
  for (const snapshot of snapshots) {
    for (const [region, message] of Object.entries(snapshot.lastMessages)) {
      const known = lastMessages[region];
      if (known === undefined || message.at > known.at) lastMessages[region] = message;
    }
  }
  const refusals = snapshots.flatMap((snapshot, worker) =>
    snapshot.refusals.filter((refusal) => worker === 0 || refusal.kind !== "publication")
  );
  const counts = new Map<string, RefusalCount>();
  for (const entry of snapshots.flatMap((snapshot) => snapshot.refusalCounts)) {
    const key = `${entry.kind} ${entry.reason}`;
    const known = counts.get(key);
    counts.set(key, {
      ...entry,
      count: entry.count + (known?.count ?? 0),
      latest: known !== undefined && known.latest.at > entry.latest.at
        ? known.latest
        : entry.latest,
    });
  }
  const refusalCounts = [...counts.values()].sort((a, b) => b.latest.at - a.latest.at);
  return { lastMessages, refusals: newestFirst(refusals), refusalCounts };
}
