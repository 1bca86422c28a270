import assert from "node:assert/strict";
import { firstStrongDirection, textDirection } from "../../../lib/contract/direction.ts";

Deno.test("the first strong character decides, as dir=auto does", () => {
  const cases: [string, "rtl" | "ltr" | null][] = [
    ["مرحبا", "rtl"],
    ["שלום", "rtl"],
    ["ܫܠܡܐ", "rtl"], // Syriac
    ["ދިވެހި", "rtl"], // Thaana
    ["ߒߞߏ", "rtl"], // N'Ko
    ["سلام دنیا", "rtl"], // Persian
    ["خوش آمدید", "rtl"], // Urdu
    ["2024 كأس العالم", "rtl"],
    ["٢٠٢٤ كأس", "rtl"], // Arabic-Indic digits are weak
    ["«هدف»", "rtl"],
    ["Hello مرحبا", "ltr"],
    ["مرحبا Hello", "rtl"],
    ["Příliš", "ltr"],
    ["Ярослав", "ltr"],
    ["東京", "ltr"],
    ["\u200Fabc", "rtl"], // RLM
    ["\u200Eمرحبا", "ltr"], // LRM
    ["\u2067abc\u2069 مرحبا", "rtl"], // isolated Latin skipped
    ["\u2066\u2067x\u2069y\u2069 z", "ltr"], // nested isolates
    ["🔥 123 !?", null],
    ["", null],
  ];
  for (const [text, expected] of cases) {
    assert.equal(firstStrongDirection(text), expected, JSON.stringify(text));
  }
});

Deno.test("text with no strong character is left-to-right", () => {
  assert.equal(textDirection("🔥 2024"), "ltr");
  assert.equal(textDirection("2024 كأس"), "rtl");
});

/**
 * Code points by strong bidi class in Perl's copy of the Unicode data, an oracle independent of
 * the gateway's: inversion lists (each range starts where the previous one ends).
 */
async function perlBidiClasses(): Promise<Record<"L" | "R" | "AL" | "assigned", number[]>> {
  const script = `
    use Unicode::UCD qw(prop_invlist);
    my %lists = map { $_->[0] => [prop_invlist($_->[1])] }
      (["L", "Bidi_Class=L"], ["R", "Bidi_Class=R"], ["AL", "Bidi_Class=AL"],
       # bidi-js has Unicode 13.0's data: later characters are compared in neither.
       ["assigned", "In=13.0"]);
    print join("\\n", map { "$_ " . join(",", @{$lists{$_}}) } sort keys %lists);
  `;
  const output = await new Deno.Command("perl", { args: ["-e", script] }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const lists: Record<string, number[]> = {};
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    const [name, values] = line.split(" ");
    lists[name!] = values!.split(",").map(Number);
  }
  return lists as Record<"L" | "R" | "AL" | "assigned", number[]>;
}

/** Whether `codePoint` is in the inversion list `list`. */
function inList(list: readonly number[], codePoint: number): boolean {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]! <= codePoint) low = middle + 1;
    else high = middle;
  }
  return low % 2 === 1;
}

/** Classes Unicode 14.0 (Perl's) changed from 13.0 (bidi-js's). */
const UNICODE_14_CHANGES = new Set([
  0x1734, // HANUNOO SIGN PAMUDPOD: NSM in 13.0, L in 14.0
]);

Deno.test("every assigned code point has the direction the Unicode data gives its bidi class", async () => {
  const classes = await perlBidiClasses();
  const wrong: string[] = [];
  let compared = 0;
  for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    if (!inList(classes.assigned, codePoint)) continue;
    compared++;
    const expected = inList(classes.L, codePoint)
      ? "ltr"
      : inList(classes.R, codePoint) || inList(classes.AL, codePoint)
      ? "rtl"
      : null;
    const actual = firstStrongDirection(String.fromCodePoint(codePoint));
    if (actual !== expected && !UNICODE_14_CHANGES.has(codePoint) && wrong.length < 20) {
      wrong.push(`U+${codePoint.toString(16).toUpperCase()}: ${actual}, not ${expected}`);
    }
  }
  assert.ok(compared > 280_000, `${compared} code points compared`);
  assert.deepEqual(wrong, []);
});

Deno.test("strong punctuation and symbols count, not only letters", () => {
  const cases: [string, "rtl" | "ltr"][] = [
    ["؟ What", "rtl"], // U+061F ARABIC QUESTION MARK, AL
    ["־ abc", "rtl"], // U+05BE HEBREW PUNCTUATION MAQAF, R
    ["״abc", "rtl"], // U+05F4 HEBREW PUNCTUATION GERSHAYIM, R
    ["۔ Urdu", "rtl"], // U+06D4 ARABIC FULL STOP, AL
    ["Ⓐ مرحبا", "ltr"], // U+24B6 CIRCLED LATIN CAPITAL LETTER A, L
    ["ः नमस्ते", "ltr"], // U+0903 DEVANAGARI SIGN VISARGA, a spacing mark, L
  ];
  for (const [text, expected] of cases) assert.equal(textDirection(text), expected, text);
});
