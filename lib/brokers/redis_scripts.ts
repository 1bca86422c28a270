/**
 * The Lua scripts the Redis broker runs (`lua/`), each one atomic step, so that every gateway
 * instance on one Redis records the same stream, and the calls that run them: their KEYS and ARGV
 * in the order each script reads them, and how its reply reads back.
 *
 * Keys of a region (the `{AE}` hash tag keeps them in one slot, should this ever run on a
 * cluster), with the channel prefix in front:
 * - `{AE}:meta`     hash: `epoch` of the stream, `top` offset
 * - `{AE}:history`  stream: entry `<offset>-0`, fields `t` (ms), `f` (fingerprint), `d` (message)
 * - `{AE}:index`    hash: fingerprint → offset, for the entries of the history
 * - `{AE}:dedupe`   sorted set: de-duplication keys by first sighting (ms)
 * - `{AE}:firsts`   hash: de-duplication key → fingerprint of its first sighting
 *
 * @module
 */

import type {
  Cursor,
  DedupeOptions,
  HistoryOptions,
  RecentKey,
  Recovery,
  RegionRecord,
  StreamPosition,
} from "./broker.ts";
import { newEpoch } from "./epoch.ts";
import common from "./lua/common.lua" with { type: "text" };
import recentKeys from "./lua/recent_keys.lua" with { type: "text" };
import record from "./lua/record.lua" with { type: "text" };
import recover from "./lua/recover.lua" with { type: "text" };

/**
 * How long a region's epoch and top offset outlive its last publication, in milliseconds. When
 * they expire, the next publication begins a new epoch.
 */
export const META_TTL_MS = 86_400_000;

/** One run of a script: its text, KEYS and ARGV, and how to read its reply. */
export interface ScriptCall<T> {
  readonly source: string;
  readonly keys: string[];
  readonly args: string[];
  read(reply: unknown): T;
}

/** What the calls need to know of a broker's streams. */
export interface StreamSettings {
  /** Prefix of every key (the channel prefix). */
  readonly keyPrefix: string;
  readonly dedupe: DedupeOptions;
  readonly history: HistoryOptions;
}

/**
 * A script with the shared functions in front. Whole-line comments are dropped: `EVAL` sends the
 * text with every call, and they are for readers of the `.lua` files.
 */
function script(body: string): string {
  return (common + body).replace(/^\s*--.*\n/gm, "").trim();
}

const RECORD = script(record);
const RECOVER = script(recover);
const RECENT_KEYS = script(recentKeys);

function key(keyPrefix: string, region: string, name: string): string {
  return `${keyPrefix}{${region}}:${name}`;
}

/** The keys a producer reads to tell whether a publication would be a repeat in `region`. */
export function repeatKeys(
  keyPrefix: string,
  region: string,
): { readonly index: string; readonly dedupe: string; readonly firsts: string } {
  return {
    index: key(keyPrefix, region, "index"),
    dedupe: key(keyPrefix, region, "dedupe"),
    firsts: key(keyPrefix, region, "firsts"),
  };
}

/**
 * Records delivered publications in one call (`lua/record.lua`); reads back their positions.
 * `lastRecorded` holds, by region, the position of the last record this gateway was given: a
 * stream behind it lost its tail and begins a new epoch.
 */
export function recordCall(
  settings: StreamSettings,
  records: readonly RegionRecord[],
  lastRecorded: ReadonlyMap<string, StreamPosition>,
): ScriptCall<StreamPosition[]> {
  const { dedupe, history } = settings;
  return {
    source: RECORD,
    keys: records.flatMap(({ region }) =>
      ["meta", "history", "index", "dedupe", "firsts"].map((name) =>
        key(settings.keyPrefix, region, name)
      )
    ),
    args: [
      String(dedupe.windowMs),
      String(dedupe.capacity),
      String(history.size),
      String(history.ttlMs),
      newEpoch(),
      String(META_TTL_MS),
      ...records.flatMap(({ region, request }) => [
        request.body,
        request.fingerprint,
        request.dedupeKey ?? "",
        lastRecorded.get(region)?.epoch ?? "",
        String(lastRecorded.get(region)?.offset ?? 0),
      ]),
    ],
    read(reply) {
      const flat = reply as (string | number)[];
      const positions: StreamPosition[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        positions.push({ epoch: String(flat[i]), offset: Number(flat[i + 1]) });
      }
      return positions;
    },
  };
}

/** A region's position and what followed `cursor` (`lua/recover.lua`). */
export function recoverCall(
  settings: StreamSettings,
  region: string,
  cursor: Cursor | null,
): ScriptCall<Recovery> {
  return {
    source: RECOVER,
    keys: ["meta", "history", "index"].map((name) => key(settings.keyPrefix, region, name)),
    args: [
      cursor?.kind ?? "none",
      cursor === null ? "" : cursor.kind === "message" ? cursor.fingerprint : cursor.position.epoch,
      String(cursor?.kind === "position" ? cursor.position.offset : 0),
      String(settings.history.ttlMs),
      newEpoch(),
      String(META_TTL_MS),
    ],
    read(reply) {
      const [epoch, top, recovered, ...flat] = reply as (string | number)[];
      const entries = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        entries.push({
          offset: Number(flat[i]),
          fingerprint: String(flat[i + 1]),
          body: String(flat[i + 2]),
        });
      }
      return {
        position: { epoch: String(epoch), offset: Number(top) },
        recovered: cursor !== null && recovered === 1,
        entries,
      };
    },
  };
}

/** The de-duplication keys within the window, with their ages (`lua/recent_keys.lua`). */
export function recentKeysCall(
  settings: StreamSettings,
  region: string,
): ScriptCall<RecentKey[]> {
  return {
    source: RECENT_KEYS,
    keys: [key(settings.keyPrefix, region, "dedupe"), key(settings.keyPrefix, region, "firsts")],
    args: [String(settings.dedupe.windowMs)],
    read(reply) {
      const flat = reply as (string | number)[];
      const keys: RecentKey[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        keys.push({
          key: String(flat[i]),
          ageMs: Number(flat[i + 1]),
          firstFingerprint: String(flat[i + 2]),
        });
      }
      return keys;
    },
  };
}
