/**
 * The demo feed of `tvs-realtime demo`: realistic multilingual trending notifications, published
 * through the broker, so a newcomer opening the page sees a toast at once: every region gets one
 * about every {@link EVERY_REGION_MS}, and a region a viewer joins gets one within a second of the
 * join. They take the same path as any producer's publication (validation, de-duplication,
 * history). Their thumbnails are the gateway's own (`/demo/thumbnails/`), so the demo looks right
 * offline.
 *
 * @module
 */

import type { Broker } from "../brokers/broker.ts";
import { errorFields, type Logger } from "../observe/log.ts";

/** Where the feed publishes, and where it sees who is watching: a running gateway. */
export interface DemoTarget extends Pick<Broker, "publish"> {
  /** Clients of each region now. */
  viewers(): Promise<Record<string, number>>;
  /** The port the gateway listens on, for the thumbnails' URL. */
  readonly port: number;
}

/** A sample video: its title and channel. */
interface Sample {
  readonly title: string;
  readonly channel: string;
}

/** Titles a real week of trending could have, in each region's languages. */
export const SAMPLES: Readonly<Record<string, readonly Sample[]>> = {
  AE: [
    { title: "أهداف مباراة العين والوحدة في نهائي الكأس", channel: "قناة أبوظبي الرياضية" },
    { title: "2024 كأس العالم: أجمل عشرة أهداف", channel: "بي إن سبورتس" },
    { title: "جولة في برج خليفة عند الغروب", channel: "دبي اليوم" },
  ],
  CZ: [
    { title: "Příliš žluťoučký kůň: nejlepší české reklamy 90. let", channel: "Retro Česko" },
    { title: "Svíčková podle babičky — krok za krokem", channel: "Vaříme doma" },
    { title: "Hokejové MS: čeští fanoušci slaví na Staroměstském náměstí", channel: "ČT sport" },
  ],
  FI: [
    { title: "Äänekosken yö — revontulet järven yllä", channel: "Luontokuvaajat" },
    { title: "Saunan säännöt: mitä jokaisen vieraan pitää tietää", channel: "Yle Areena" },
    { title: "Jääkiekon MM-kisat: Suomen maalikooste", channel: "Leijonat" },
  ],
  DK: [
    { title: "Rødgrød med fløde på Ærø — madtur til øerne", channel: "DR Mad" },
    { title: "Tour de France på danske veje: de bedste øjeblikke", channel: "TV 2 Sport" },
    { title: "Hygge i København før jul", channel: "Visit København" },
  ],
  BE: [
    { title: "Bruxelles : la Grand-Place illuminée pour Noël", channel: "RTBF" },
    { title: "De mooiste fietsroutes in Vlaanderen", channel: "VRT NWS" },
  ],
  CH: [
    { title: "Zürich: Die Street Parade in 4K", channel: "SRF" },
    { title: "Genève : le jet d'eau vu du ciel", channel: "RTS" },
  ],
  GB: [
    { title: "Mind the gap: a day on the London Underground", channel: "BBC" },
    { title: "هدف رائع في الدوري الإنجليزي — Premier League highlights in Arabic", channel: "beIN" },
  ],
  US: [
    { title: "Grand Canyon sunrise timelapse", channel: "National Parks" },
    { title: "The best barbecue in Texas, ranked", channel: "Food Trails" },
  ],
};

/** How often each region gets a publication, in ms. */
export const EVERY_REGION_MS = 5000;
/** How often the feed looks for viewers who joined, in ms. */
const JOIN_CHECK_MS = 500;
/** A region that just got one is not sent another for a join sooner than this, in ms. */
const JOIN_QUIET_MS = 1000;

/** Options of {@link startDemoFeed}. */
export interface DemoFeedOptions {
  /** Regions to publish to; those without samples are skipped. */
  readonly regions: readonly string[];
  readonly logger: Logger;
}

/** Starts publishing; returns a function that stops it. */
export function startDemoFeed(target: DemoTarget, options: DemoFeedOptions): () => void {
  const regions = options.regions.filter((region) => (SAMPLES[region]?.length ?? 0) > 0);
  const sent = new Map<string, number>(regions.map((region) => [region, 0]));
  const lastAt = new Map<string, number>();
  let published = 0;
  const publish = (region: string) => {
    const samples = SAMPLES[region] ?? [];
    const count = sent.get(region) ?? 0;
    const sample = samples[count % samples.length];
    if (sample === undefined) return;
    sent.set(region, count + 1);
    lastAt.set(region, Date.now());
    const videoId = `demo-${Date.now().toString(36)}-${published++}`;
    const message = {
      event: "new_trending",
      region,
      video_id: videoId,
      title: sample.title,
      channel: sample.channel,
      thumbnail: thumbnailUrl(target.port, region, count % samples.length),
      ts: Math.floor(Date.now() / 1000),
    };
    target.publish(region, JSON.stringify(message)).catch((error) =>
      options.logger.warn("demo feed could not publish", errorFields(error))
    );
  };
  // Round the regions, one at a time, so each gets one every EVERY_REGION_MS.
  let next = 0;
  const round = setInterval(() => {
    const region = regions[next++ % regions.length];
    if (region !== undefined) publish(region);
  }, EVERY_REGION_MS / Math.max(1, regions.length));
  let watched: Record<string, number> = {};
  let checking = false;
  const joins = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      const viewers = await target.viewers();
      for (const region of regions) {
        const joined = (viewers[region] ?? 0) > (watched[region] ?? 0);
        if (joined && Date.now() - (lastAt.get(region) ?? 0) >= JOIN_QUIET_MS) publish(region);
      }
      watched = viewers;
    } catch (error) {
      options.logger.debug("demo feed could not count viewers", errorFields(error));
    } finally {
      checking = false;
    }
  }, JOIN_CHECK_MS);
  options.logger.info("demo feed started", { regions, everyRegionMs: EVERY_REGION_MS });
  return () => {
    clearInterval(round);
    clearInterval(joins);
  };
}

/** A thumbnail the gateway serves itself (`static/demo/`), one per sample of a region. */
function thumbnailUrl(port: number, region: string, sample: number): string {
  return `http://localhost:${port}/demo/thumbnails/${region.toLowerCase()}-${sample + 1}.svg`;
}
