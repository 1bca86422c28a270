/**
 * The demo feed of `tvs-realtime demo`: realistic multilingual trending notifications, published
 * through the broker every few seconds, so a newcomer opening the page sees toasts at once. They
 * take the same path as any producer's publication (validation, de-duplication, history).
 *
 * @module
 */

import type { Broker } from "../brokers/broker.ts";

/** Where the feed publishes: a broker, or a running gateway. */
export type Publisher = Pick<Broker, "publish">;
import { errorFields, type Logger } from "../observe/log.ts";

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

/** Options of {@link startDemoFeed}. */
export interface DemoFeedOptions {
  /** Regions to publish to; those without samples are skipped. */
  readonly regions: readonly string[];
  readonly logger: Logger;
  /** Time between two publications, in milliseconds. @default 3000 */
  readonly intervalMs?: number;
}

/** Starts publishing; returns a function that stops it. */
export function startDemoFeed(broker: Publisher, options: DemoFeedOptions): () => void {
  const regions = options.regions.filter((region) => (SAMPLES[region]?.length ?? 0) > 0);
  let count = 0;
  const publishOne = () => {
    const region = regions[count % regions.length];
    const samples = region === undefined ? undefined : SAMPLES[region];
    if (region === undefined || samples === undefined) return;
    const sample = samples[Math.floor(count / regions.length) % samples.length]!;
    const videoId = `demo-${Date.now().toString(36)}-${count++}`;
    const message = {
      event: "new_trending",
      region,
      video_id: videoId,
      title: sample.title,
      channel: sample.channel,
      thumbnail: `https://picsum.photos/seed/${videoId}/320/180`,
      ts: Math.floor(Date.now() / 1000),
    };
    broker.publish(region, JSON.stringify(message)).catch((error) =>
      options.logger.warn("demo feed could not publish", errorFields(error))
    );
  };
  const first = setTimeout(publishOne, 1000);
  const timer = setInterval(publishOne, options.intervalMs ?? 3000);
  options.logger.info("demo feed started", { regions, intervalMs: options.intervalMs ?? 3000 });
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
