import assert from "node:assert/strict";
import {
  CLOSE_CODES,
  HANDSHAKE_REFUSALS,
  reconnectAfterClose,
  reconnectAfterRefusal,
} from "../../../lib/client/close_codes.js";

Deno.test("restart, idle, lost connection, try again later and slow consumer mean reconnect; policy codes mean stop", () => {
  const expected: [number, boolean][] = [
    [1000, false],
    [1001, true],
    [1006, true],
    [1008, false],
    [1009, false],
    [1012, true],
    [1013, true],
    [4001, true],
    [1005, true], // not in the table: transient
    [4999, true],
  ];
  for (const [code, reconnect] of expected) {
    assert.equal(reconnectAfterClose(code), reconnect, String(code));
  }
});

Deno.test("every close code and refusal in the table agrees with the rules clients apply", () => {
  for (const [name, entry] of Object.entries(CLOSE_CODES)) {
    assert.equal(reconnectAfterClose(entry.code), entry.reconnect, name);
    assert.ok(entry.reason.length <= 123, `${name}: a close reason fits a control frame`);
  }
  for (const [name, refusal] of Object.entries(HANDSHAKE_REFUSALS)) {
    assert.equal(reconnectAfterRefusal(refusal.status, refusal.error), refusal.reconnect, name);
  }
  // Outside the table, the status decides: the probe's 426 "upgrade_required" means "accepted".
  assert.equal(reconnectAfterRefusal(426, "upgrade_required"), true);
  assert.equal(reconnectAfterRefusal(404, "not_found"), false);
  assert.equal(reconnectAfterRefusal(502), true);
  assert.equal(
    new Set(Object.values(CLOSE_CODES).map((entry) => entry.code)).size,
    Object.keys(CLOSE_CODES).length,
  );
});
