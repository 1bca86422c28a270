/**
 * Text as a reader sees it: Unicode NFC without control characters, and its length in code
 * points (what a limit of "500 characters" means to a publisher).
 *
 * The controls removed are C0, DEL and C1 (general category Cc), and the bidirectional embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069): an override in a title (U+202E) reverses
 * what follows it on the page, and an embedding left open spills into the toast around it. The
 * marks real titles need stay: LRM and RLM (U+200E, U+200F), the Arabic letter mark (U+061C), and
 * the joiners ZWJ and ZWNJ (U+200D, U+200C) that Persian words and emoji sequences are made of.
 *
 * @module
 */

const CONTROL_CHARACTERS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Whether `text` has only characters that are neither controls nor surrogates and that NFC leaves
 * alone whatever their neighbours (quick check "yes", combining class 0): printable ASCII, U+00A0
 * to U+02FF (Latin-1 and the Latin Extended letters, the first combining mark is U+0300) and the
 * Arabic letters. Nearly every key and value of a trending message, in every region, is such
 * text: a loop over it is cheaper than the regex and ICU calls it spares, above all on the cold
 * caches a message finds after an idle spell.
 */
function isPlainText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if ((unit >= 0x20 && unit < 0x7f) || (unit >= 0xa0 && unit < 0x300)) continue;
    if (unit >= 0x621 && unit <= 0x64a) continue;
    return false;
  }
  return true;
}

/**
 * NFC without control characters, so a title reads as written whichever way it was encoded;
 * `null` for text with a lone surrogate, which is refused rather than replaced.
 */
export function normaliseText(text: string): string | null {
  if (isPlainText(text)) return text;
  if (!text.isWellFormed()) return null;
  // Strip first: a control character between a letter and its accent would block composition,
  // and stripping it after NFC would leave a decomposed pair behind.
  return text.replace(CONTROL_CHARACTERS, "").normalize("NFC");
}

/** Code points of well-formed `text`: its UTF-16 units less the low halves of its pairs. */
export function characters(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) count--;
  }
  return count;
}
