import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { mapStringsDeep, mapStringsShared } from "./deep.js";

/** Changes only strings holding an `x` (keys included): most of a value stays as it is. */
const mark = (s: string): string => (s.includes("x") ? s.replace(/x/g, "[X]") : s);

/** Every object or array of `v` none of whose strings (keys included) `mark` changes. */
function untouched(v: unknown): unknown[] {
    const out: unknown[] = [];
    const walk = (x: unknown): boolean => {
        if (typeof x === "string") return mark(x) === x;
        if (x === null || typeof x !== "object") return true;
        let same = true;
        for (const [k, c] of Object.entries(x)) {
            if (mark(k) !== k) same = false;
            if (!walk(c)) same = false;
        }
        if (same) out.push(x);
        return same;
    };
    walk(v);
    return out;
}

/** Every object or array reachable from `v`. */
function containers(v: unknown, out = new Set<unknown>()): Set<unknown> {
    if (v !== null && typeof v === "object") {
        out.add(v);
        for (const c of Object.values(v)) containers(c, out);
    }
    return out;
}

const keyArb = fc.oneof(fc.constantFrom("a", "x", "ax", "__proto__", "b"), fc.string({ maxLength: 3 }));
const valueArb = fc.letrec((tie) => ({
    value: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom("x", "y", "axb", "", "plain"),
        fc.string({ maxLength: 4 }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(keyArb, tie("value"), { maxKeys: 4 }),
    ),
}))
    // As JSON.parse makes values (the only values these functions get): plain prototypes, `__proto__` an own key.
    .value.map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe("mapStringsShared", () => {
    it("gives what mapStringsDeep gives, shares every part the map leaves alone, and changes nothing it was given", () => {
        fc.assert(
            fc.property(valueArb, (v) => {
                const before = structuredClone(v);
                const shared = mapStringsShared(v, mark);
                assert.deepEqual(shared, mapStringsDeep(v, mark));
                assert.deepEqual(v, before, "the input is not changed");
                // What stays the same is the same object; what changed is a new one.
                const kept = containers(shared);
                const same = untouched(v);
                for (const part of same) assert.ok(kept.has(part) || !containers(v).has(part), "an unchanged part is shared");
                for (const part of containers(v)) if (!same.includes(part)) assert.ok(!kept.has(part), "a changed part is copied");
            }),
            { numRuns: 2000 },
        );
    });

    it("keeps __proto__ an own key, holes as holes, and handles depth without recursion", () => {
        const parsed = JSON.parse('{"__proto__": {"x": 1}, "y": "x"}') as Record<string, unknown>;
        const out = mapStringsShared(parsed, mark);
        assert.ok(Object.prototype.hasOwnProperty.call(out, "__proto__"));
        assert.deepEqual(Object.keys(out), ["__proto__", "y"]);
        assert.equal(out.y, "[X]");
        // eslint-disable-next-line no-sparse-arrays -- the hole is the point
        const holes = mapStringsShared([1, , "x"], mark);
        assert.ok(!(1 in holes));
        let deep: unknown = "x";
        for (let i = 0; i < 100_000; i++) deep = [deep];
        let d = mapStringsShared(deep, mark);
        for (let i = 0; i < 100_000; i++) d = (d as unknown[])[0];
        assert.equal(d, "[X]");
        const unchanged = { a: [{ b: "y" }] };
        assert.equal(mapStringsShared(unchanged, mark), unchanged);
    });
});
