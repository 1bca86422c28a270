import assert from "node:assert/strict";
import { firstStrongDirection, textDirection } from "../lib/direction.ts";

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
