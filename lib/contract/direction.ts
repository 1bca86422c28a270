/**
 * Text direction from content, the way HTML's `dir="auto"` decides it: the first character with a
 * strong direction wins; digits, most punctuation, spaces, emoji and marks are skipped, and so is
 * anything inside a directional isolate (U+2066…U+2069). So `2024 كأس العالم` is right-to-left and
 * an English title published to AE is left-to-right.
 *
 * Strong means bidi class L, R or AL (UAX #9), letters or not: `؟` (U+061F, AL) and `־` (U+05BE,
 * R) are punctuation and strong, a circled Ⓐ is a symbol and L. JavaScript's regexes know
 * scripts and categories but not bidi classes, so these come from the Unicode data of `bidi-js`
 * (13.0); the tests compare every code point with Perl's own copy of the Unicode data.
 *
 * @module
 */

import bidiModule, { type Bidi } from "bidi-js";

/** A text direction. */
export type Direction = "rtl" | "ltr";

// bidi-js is CommonJS whose `module.exports` is its factory, with types written as an ES module's
// default export: Deno types the default import as the module's namespace instead.
const bidi = (bidiModule as unknown as () => Bidi)();
// Its first lookup unpacks the data (about 4 ms): at start-up, not on the first message.
bidi.getBidiCharTypeName("\u061F");

const ISOLATE_OPENERS = new Set(["\u2066", "\u2067", "\u2068"]);
const POP_ISOLATE = "\u2069";

/** What {@link knownClass} answers for a character with no strong direction. */
const NEUTRAL = "neutral";
/** What {@link knownClass} answers when only the Unicode properties can tell. */
const ASK_PROPERTIES = "ask";

/**
 * The class of the UTF-16 unit `code` where a comparison settles it: ASCII, Latin-1, and the
 * Arabic and Hebrew letters that open nearly every title. Everything else is looked up in the
 * Unicode data, which on the cold caches a trending message finds after an idle spell costs more
 * than the whole comparison.
 */
function knownClass(code: number): Direction | typeof NEUTRAL | typeof ASK_PROPERTIES {
  if (code < 0x80) {
    return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ? "ltr" : NEUTRAL;
  }
  if (code >= 0xc0 && code <= 0xff) return code === 0xd7 || code === 0xf7 ? NEUTRAL : "ltr";
  if ((code >= 0x621 && code <= 0x63a) || (code >= 0x641 && code <= 0x64a)) return "rtl";
  if (code >= 0x5d0 && code <= 0x5ea) return "rtl";
  return ASK_PROPERTIES;
}

/** The direction of the first strong character of `text`, or `null` when it has none. */
export function firstStrongDirection(text: string): Direction | null {
  let isolateDepth = 0;
  for (const char of text) {
    if (ISOLATE_OPENERS.has(char)) {
      isolateDepth++;
    } else if (char === POP_ISOLATE) {
      if (isolateDepth > 0) isolateDepth--;
    } else if (isolateDepth === 0) {
      const known = knownClass(char.charCodeAt(0));
      if (known === NEUTRAL) continue;
      if (known !== ASK_PROPERTIES) return known;
      const type = bidi.getBidiCharTypeName(char);
      if (type === "R" || type === "AL") return "rtl";
      if (type === "L") return "ltr";
    }
  }
  return null;
}

/** The direction `dir="auto"` would give `text`: its first strong character's, else `ltr`. */
export function textDirection(text: string): Direction {
  return firstStrongDirection(text) ?? "ltr";
}
