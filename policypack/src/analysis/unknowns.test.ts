import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { UNKNOWN_SENTINELS } from "./constants.js";
import { findUnknowns } from "./unknowns.js";

/** The paths `findUnknowns` must give, by the definition: every string that includes a sentinel, where it is. */
function reference(value: unknown, path = ""): string[] {
    if (typeof value === "string") return UNKNOWN_SENTINELS.some((s) => value.includes(s)) ? [path] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => reference(v, `${path}[${i}]`));
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => reference(v, path === "" ? k : `${path}.${k}`));
    }
    return [];
}

describe("findUnknowns: one scan for every sentinel", () => {
    it("finds each sentinel alone, at either end of a string and inside JSON text, and nothing a character off", () => {
        for (const s of UNKNOWN_SENTINELS) {
            assert.deepEqual(findUnknowns(s), [""]);
            assert.deepEqual(findUnknowns({ a: [`x${s}`, `${s}y`] }), ["a[0]", "a[1]"]);
            assert.deepEqual(findUnknowns(JSON.stringify({ Statement: [{ Principal: { Federated: s } }] })), [""]);
            // One character changed, one dropped (a string one shorter than any sentinel): not a sentinel.
            assert.deepEqual(findUnknowns(`${s.slice(0, 35)}${s[35] === "0" ? "1" : "0"}`), []);
            assert.deepEqual(findUnknowns(s.slice(1)), []);
            assert.deepEqual(findUnknowns(s.toUpperCase()), s === s.toUpperCase() ? [""] : []);
        }
    });

    it("agrees with the definition over random values that hold sentinels, near-misses and short strings", () => {
        const piece = fc.oneof(
            fc.constantFrom(...UNKNOWN_SENTINELS),
            fc.constantFrom(...UNKNOWN_SENTINELS).map((s) => s.slice(0, 20)),
            fc.string({ maxLength: 8 }),
        );
        const str = fc.array(piece, { maxLength: 4 }).map((parts) => parts.join(""));
        const value = fc.letrec((tie) => ({
            v: fc.oneof({ depthSize: "small" }, str, fc.integer(), fc.constant(null), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 4 }), tie("v"), { maxKeys: 4 })),
        })).v;
        fc.assert(
            fc.property(value, (v) => {
                assert.deepEqual(findUnknowns(v), reference(v));
            }),
            { numRuns: 1000 },
        );
    });
});
