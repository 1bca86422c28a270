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

/** The direction of the first strong character of `text`, or `null` when it has none. */
export function firstStrongDirection(text: string): Direction | null {
  let isolateDepth = 0;
  for (const char of text) {
    if (ISOLATE_OPENERS.has(char)) {
      isolateDepth++;
    } else if (char === POP_ISOLATE) {
      if (isolateDepth > 0) isolateDepth--;
    } else if (isolateDepth === 0) {
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
