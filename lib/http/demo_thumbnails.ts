/**
 * The demo feed's thumbnails, drawn here so the demo looks right offline: for each of the eight
 * regions, three 320×180 SVG pictures in colours of its flag with a play button, served at
 * `/demo/thumbnails/<region>-<n>.svg`.
 *
 * @module
 */

/** Two colours per region, from its flag. */
const COLOURS: Readonly<Record<string, readonly [string, string]>> = {
  AE: ["#00732f", "#c8102e"],
  FI: ["#002f6c", "#7aa5d8"],
  CZ: ["#11457e", "#d7141a"],
  DK: ["#c8102e", "#8a0b20"],
  BE: ["#1a1a1a", "#fdda24"],
  GB: ["#012169", "#c8102e"],
  CH: ["#d52b1e", "#7a1810"],
  US: ["#3c3b6e", "#b22234"],
};

/** Pictures per region: as many as the demo feed has samples for the region with the most. */
export const THUMBNAILS_PER_REGION = 3;

/** One picture: the region's colours at an angle that differs per `n`, and a play button. */
function picture(from: string, to: string, n: number): string {
  const angle = [0, 60, 120][n % 3] ?? 0;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">
<defs><linearGradient id="g" gradientTransform="rotate(${angle} .5 .5)">
<stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>
<rect width="320" height="180" fill="url(#g)"/>
<circle cx="${90 + 70 * n}" cy="${50 + 30 * n}" r="${60 - 10 * n}" fill="#fff" fill-opacity=".12"/>
<circle cx="160" cy="90" r="30" fill="#000" fill-opacity=".45"/>
<path d="M150 74v32l26-16z" fill="#fff"/>
</svg>
`;
}

/** Every thumbnail, by URL path. */
export function demoThumbnails(): [string, string][] {
  return Object.entries(COLOURS).flatMap(([region, [from, to]]) =>
    Array.from({ length: THUMBNAILS_PER_REGION }, (_, n): [string, string] => [
      `/demo/thumbnails/${region.toLowerCase()}-${n + 1}.svg`,
      picture(from, to, n),
    ])
  );
}
