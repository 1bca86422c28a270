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
 * The definition the module implements, from Unicode properties alone, for the blocks tested below
 * (U+061C, the Arabic letter mark, is their one strong mark): a test oracle.
 */
function directionByProperties(char: string): "rtl" | "ltr" | null {
  if (char === "\u061C") return "rtl";
  if (!/\p{L}/u.test(char)) return null;
  return /[\p{Script=Arabic}\p{Script=Hebrew}]/u.test(char) ? "rtl" : "ltr";
}

Deno.test("every Latin-1, Hebrew and Arabic character gets the class its properties give", () => {
  // The blocks where characters are classed by comparison rather than by the property regexes.
  for (const [first, last] of [[0x0, 0xff], [0x590, 0x6ff]] as const) {
    for (let code = first; code <= last; code++) {
      const char = String.fromCharCode(code);
      assert.equal(
        firstStrongDirection(char),
        directionByProperties(char),
        `U+${code.toString(16)}`,
      );
    }
  }
});
