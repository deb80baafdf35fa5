import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownValue, putOwn } from "./own.js";

describe("own properties of objects keyed by input", () => {
    it("ownValue finds a key the object has, and none that only its prototype has", () => {
        const parsed = JSON.parse('{"a": 1, "__proto__": {"x": 2}, "constructor": "c"}') as Record<string, unknown>;
        assert.equal(ownValue(parsed, "a"), 1);
        assert.deepEqual(ownValue(parsed, "__proto__"), { x: 2 });
        assert.equal(ownValue(parsed, "constructor"), "c");
        for (const key of ["toString", "hasOwnProperty", "valueOf", "__defineGetter__", "missing"]) {
            assert.equal(ownValue(parsed, key), undefined, key);
            assert.equal(ownValue({}, key), undefined, key);
        }
        assert.equal(ownValue({}, "__proto__"), undefined);
        assert.equal(ownValue(["a", "b"], 1), "b");
        assert.equal(ownValue(["a", "b"], "length"), 2, "an array's own length is its own");
    });

    it("putOwn writes __proto__ as an own, enumerable property, as JSON.parse does, and leaves the prototype alone", () => {
        const out: Record<string, unknown> = {};
        putOwn(out, "__proto__", { polluted: true });
        putOwn(out, "constructor", "c");
        putOwn(out, "a", 1);
        assert.equal(Object.getPrototypeOf(out), Object.prototype);
        assert.equal((out as { polluted?: unknown }).polluted, undefined);
        assert.deepEqual(Object.keys(out), ["__proto__", "constructor", "a"]);
        assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"constructor":"c","a":1}');
        assert.deepEqual(out, JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","a":1}'));
        // Written again, the same property changes.
        putOwn(out, "__proto__", 2);
        assert.equal(ownValue(out, "__proto__"), 2);
        assert.equal(Object.getPrototypeOf(out), Object.prototype);
    });
});
