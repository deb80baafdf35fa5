import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { revealValue, SECRET_SIG, SIG_KEY } from "./values.js";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("revealValue", () => {
    it("returns plain values unchanged (same object, nothing unreadable)", () => {
        const doc = { Statement: [{ Effect: "Allow" }] };
        const r = revealValue(doc);
        assert.equal(r.value, doc);
        assert.deepEqual(r.unreadable, []);
        assert.equal(r.hadSecret, false);
    });

    it("unwraps a --show-secrets plaintext secret, JSON-decoding it as the engine encodes it", () => {
        const policy = '{"Statement":[]}';
        const r = revealValue({ [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(policy) });
        assert.equal(r.value, policy);
        assert.equal(r.hadSecret, true);
        assert.deepEqual(r.unreadable, []);
    });

    it("unwraps nested secrets without touching the input", () => {
        const input = { Statement: [{ Condition: { [SIG_KEY]: SECRET_SIG, plaintext: '{"StringEquals":{"k":"v"}}' } }] };
        const r = revealValue(input);
        assert.deepEqual(r.value, { Statement: [{ Condition: { StringEquals: { k: "v" } } }] });
        assert.deepEqual(input.Statement[0]!.Condition, { [SIG_KEY]: SECRET_SIG, plaintext: '{"StringEquals":{"k":"v"}}' });
    });

    it("marks ciphertext, [secret] and display-form unknowns as unreadable, with their paths", () => {
        const r = revealValue({
            a: { [SIG_KEY]: SECRET_SIG, ciphertext: "v1:abc" },
            b: ["[secret]"],
            c: "output<string>",
            d: "[unknown]",
            e: "computed<string>",
        });
        assert.deepEqual(
            r.unreadable.map((u) => [u.path, u.reason]),
            [
                ["a", "ciphertext"],
                ["b[0]", "redacted-secret"],
                ["c", "display-unknown"],
                ["d", "display-unknown"],
                ["e", "display-unknown"],
            ],
        );
    });

    it("looks inside a JSON string for display-form unknowns", () => {
        const text = JSON.stringify({ Statement: [{ Principal: { Federated: "output<string>" } }] });
        const r = revealValue(text);
        assert.equal(r.value, text);
        assert.deepEqual(r.unreadable, [{ path: "Statement[0].Principal.Federated", reason: "display-unknown" }]);
    });

    it("leaves engine sentinels to the analysis (they are not display forms)", () => {
        assert.deepEqual(revealValue(UNKNOWN).unreadable, []);
        assert.deepEqual(revealValue("an output<string> inside prose").unreadable, []);
    });
});
