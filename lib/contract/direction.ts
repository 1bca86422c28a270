/**
 * Text direction from content, the way HTML's `dir="auto"` decides it: the first character with a
 * strong direction wins; digits, punctuation, spaces, emoji and marks are skipped, and so is
 * anything inside a directional isolate (U+2066…U+2069). So `2024 كأس العالم` is right-to-left and
 * an English title published to AE is left-to-right.
 *
 * JavaScript exposes scripts, not bidi classes: letters of the right-to-left scripts stand for
 * classes R and AL, every other letter for L, plus the explicit marks RLM, ALM and LRM.
 *
 * @module
 */

/** A text direction. */
export type Direction = "rtl" | "ltr";

const RTL_SCRIPTS = [
  "Arabic",
  "Hebrew",
  "Syriac",
  "Thaana",
  "Nko",
  "Samaritan",
  "Mandaic",
  "Adlam",
  "Hanifi_Rohingya",
  "Mende_Kikakui",
  "Imperial_Aramaic",
  "Phoenician",
  "Kharoshthi",
  "Old_South_Arabian",
  "Old_North_Arabian",
  "Avestan",
  "Inscriptional_Parthian",
  "Inscriptional_Pahlavi",
  "Psalter_Pahlavi",
  "Old_Turkic",
  "Old_Hungarian",
  "Nabataean",
  "Palmyrene",
  "Hatran",
  "Lydian",
  "Meroitic_Cursive",
  "Meroitic_Hieroglyphs",
  "Manichaean",
  "Cypriot",
  "Old_Sogdian",
  "Sogdian",
  "Elymaic",
  "Chorasmian",
  "Yezidi",
  "Old_Uyghur",
];

/** A letter of a right-to-left script (bidi R or AL), or RLM / ALM. */
const STRONG_RTL = new RegExp(
  `^(?:(?=\\p{L})[${
    RTL_SCRIPTS.map((script) => `\\p{Script=${script}}`).join("")
  }]|[\\u200F\\u061C])$`,
  "u",
);
/** Any other letter (bidi L), or LRM. */
const STRONG_LTR = /^(?:\p{L}|\u200E)$/u;

const ISOLATE_OPENERS = new Set(["\u2066", "\u2067", "\u2068"]);
const POP_ISOLATE = "\u2069";

/** What {@link knownClass} answers for a character with no strong direction. */
const NEUTRAL = "neutral";
/** What {@link knownClass} answers when only the Unicode properties can tell. */
const ASK_PROPERTIES = "ask";

/**
 * The class of the UTF-16 unit `code` where a comparison settles it: ASCII, Latin-1, and the
 * Arabic and Hebrew letters that open nearly every title. Everything else goes to the property
 * regexes, whose first run after an idle spell costs more than the whole comparison, and a
 * trending message normally arrives after such a spell.
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
      if (STRONG_RTL.test(char)) return "rtl";
      if (STRONG_LTR.test(char)) return "ltr";
    }
  }
  return null;
}

/** The direction `dir="auto"` would give `text`: its first strong character's, else `ltr`. */
export function textDirection(text: string): Direction {
  return firstStrongDirection(text) ?? "ltr";
}
