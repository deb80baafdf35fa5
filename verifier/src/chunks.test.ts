/**
 * jsonChunks: byte for byte what one `JSON.stringify(value, null, 2)` writes, however the arrays are cut. batched:
 * what one join writes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    ByteSink,
    ChunkedArray,
    LateValue,
    RenderedItems,
    batched,
    joinChunks,
    jsonChunks,
    renderItemBytes,
    renderItems,
    textOf,
    type ItemWriter,
    type OutputChunk,
} from "./chunks.js";
import { encodeJsonOutput, escapeJsonOutput } from "./escape.js";

/** The bytes of `chunks` as written: text as UTF-8, bytes as they are. */
const bytesOf = (chunks: Iterable<OutputChunk>): Buffer => Buffer.concat([...chunks].map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c)));

describe("jsonChunks", () => {
    it("writes what JSON.stringify writes, for chunked arrays at any depth, empty or not", () => {
        const json = fc.jsonValue({ maxDepth: 3 });
        fc.assert(
            fc.property(fc.array(json, { maxLength: 11 }), fc.array(json, { maxLength: 3 }), json, (long, other, rest) => {
                const a = new ChunkedArray(long);
                const b = new ChunkedArray(other);
                const value = { head: rest, deep: { runs: [{ results: a, n: 1 }], list: [b, "x"] }, tail: rest };
                const plain = { head: rest, deep: { runs: [{ results: long, n: 1 }], list: [other, "x"] }, tail: rest };
                const chunks = [...jsonChunks(value, [a, b])];
                assert.equal(chunks.join(""), `${JSON.stringify(plain, null, 2)}\n`);
            }),
            { numRuns: 500 },
        );
    });

    it("writes items rendered apart (another thread's) where they stand: the bytes of the items themselves", () => {
        // Strings of any code points, controls and lone surrogates among them: the rendered bytes are escaped and
        // encoded by their maker, the rest by jsonChunks, and the whole is the bytes one escaped string is written as.
        const json = fc.jsonValue({ maxDepth: 3, stringUnit: "binary" });
        fc.assert(
            fc.property(
                fc.array(fc.tuple(fc.array(json, { maxLength: 12 }), fc.boolean()), { maxLength: 6 }),
                fc.integer({ min: 0, max: 3 }),
                (runs, depth) => {
                    // Runs of items, each given as they are or rendered apart for the depth of the array that holds them.
                    const items: unknown[] = [];
                    const given: unknown[] = [];
                    for (const [run, apart] of runs) {
                        items.push(...run);
                        if (apart) given.push(new RenderedItems(encodeJsonOutput(renderItems(run, depth + 1)), depth + 1));
                        else given.push(...run);
                    }
                    const a = new ChunkedArray(given);
                    let value: unknown = { results: a };
                    let plain: unknown = { results: items };
                    for (let d = 0; d < depth; d++) {
                        value = [value];
                        plain = [plain];
                    }
                    const whole = `${escapeJsonOutput(JSON.stringify(plain, null, 2))}\n`;
                    assert.deepEqual(bytesOf(jsonChunks(value, [a], encodeJsonOutput)), Buffer.from(whole, "utf8"));
                    assert.deepEqual(bytesOf(jsonChunks(value, [a], escapeJsonOutput)), Buffer.from(whole, "utf8"));
                },
            ),
            { numRuns: 300 },
        );
    });

    it("refuses items rendered for another depth than their array's", () => {
        const a = new ChunkedArray([new RenderedItems(encodeJsonOutput(renderItems([{ x: 1 }], 2)), 2)]);
        assert.throws(() => [...jsonChunks({ results: a }, [a])], /rendered for depth 2 in an array at depth 1/);
    });

    it("writes a late value where it stands, at its depth, asked for only after the arrays before it are written", () => {
        const json = fc.jsonValue({ maxDepth: 3 });
        fc.assert(
            fc.property(fc.array(json, { maxLength: 9 }), json, json, (long, late, rest) => {
                let pulled = 0;
                // The array's items come from a generator: the late value sees how many were written before it.
                const a = new ChunkedArray(
                    (function* () {
                        for (const x of long) {
                            pulled++;
                            yield x;
                        }
                    })(),
                );
                const v = new LateValue(() => {
                    assert.equal(pulled, long.length);
                    return { late, count: pulled };
                });
                const value = { rest, deep: [{ items: a, after: { v } }], tail: rest };
                const plain = { rest, deep: [{ items: long, after: { v: { late, count: long.length } } }], tail: rest };
                assert.equal([...jsonChunks(value, [a, v])].join(""), `${JSON.stringify(plain, null, 2)}\n`);
            }),
            { numRuns: 300 },
        );
    });

    it("refuses a skeleton with a chunked array or late value it was not given (it would write the mark)", () => {
        const a = new ChunkedArray([1]);
        const v = new LateValue(() => 1);
        assert.throws(() => [...jsonChunks({ a, v }, [a])], /not given/);
        assert.throws(() => [...jsonChunks({ a, v }, [v])], /not given/);
    });

    it("expands each source item when its batch is written, and escapes every chunk", () => {
        const made: number[] = [];
        const a = new ChunkedArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (n) => {
            made.push(n);
            return n % 3 === 0 ? [] : [{ n, s: "\u2028" }, n];
        });
        const it = jsonChunks({ a }, [a], (s) => s.replace(/\u2028/g, "\\u2028"));
        const step = it.next();
        const first = step.done === true ? "" : textOf(step.value);
        // The first chunk holds the first batch (8 values) only: items 1 to 5 made them (3 makes none); the rest is
        // not made yet.
        assert.deepEqual(made, [1, 2, 3, 4, 5]);
        const text = first + joinChunks(it);
        assert.deepEqual(made, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert.doesNotMatch(text, /\u2028/);
        const expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].flatMap((n) => (n % 3 === 0 ? [] : [{ n, s: "\u2028" }, n]));
        assert.deepEqual(JSON.parse(text), { a: expected });
        // A skeleton string that spells a mark is refused, not cut in the wrong place.
        const c = new ChunkedArray([1]);
        assert.throws(() => [...jsonChunks({ spoof: c.mark, c }, [c])], /spells a chunked array's mark/);
        // An array whose items all expand to nothing is written as JSON.stringify writes an empty one.
        const none = new ChunkedArray([1, 2], () => []);
        assert.equal([...jsonChunks({ x: none, y: 1 }, [none])].join(""), `${JSON.stringify({ x: [], y: 1 }, null, 2)}\n`);
    });
});

/** Items with bytes of their own: those in `own`, written as `encodeJsonOutput(renderItems([item], depth))` does. */
function writerOf(own: ReadonlySet<unknown>): ItemWriter {
    return (item, depth) =>
        own.has(item)
            ? {
                  writeTo: (into: ByteSink): void => {
                      const text = renderItems([item], depth);
                      if (!into.json(text)) into.bytes(encodeJsonOutput(text));
                  },
              }
            : undefined;
}

describe("renderItemBytes", () => {
    it("writes the bytes of the items escaped and encoded together, items with bytes of their own or not, in any mix", () => {
        const item = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ name: fc.string({ unit: "binary" }) }));
        fc.assert(
            fc.property(fc.array(fc.tuple(item, fc.boolean()), { maxLength: 12 }), fc.integer({ min: 0, max: 3 }), (pairs, depth) => {
                // Objects, so that an item with bytes of its own is told apart by identity.
                const items = pairs.map(([value]) => ({ value }));
                const own = new Set(items.filter((_, i) => pairs[i]![1]));
                const got = Buffer.from(renderItemBytes(items, depth, writerOf(own), encodeJsonOutput));
                assert.deepEqual(got, Buffer.from(encodeJsonOutput(renderItems(items, depth))));
            }),
            { numRuns: 300 },
        );
    });

    it("is what jsonChunks writes for an array whose items have bytes of their own", () => {
        const items = Array.from({ length: 21 }, (_, i) => ({ i, name: i % 3 === 0 ? `r\u0085${i}` : `r${i}` }));
        const own = new Set(items.filter((x) => x.i % 2 === 0));
        const chunked = new ChunkedArray(items, undefined, writerOf(own));
        const got = bytesOf(jsonChunks({ results: chunked, n: 1 }, [chunked], encodeJsonOutput));
        assert.deepEqual(got, Buffer.from(encodeJsonOutput(`${JSON.stringify({ results: items, n: 1 }, null, 2)}\n`)));
    });
});

describe("ByteSink", () => {
    it("writes plain values and ASCII JSON as they are, and refuses (writing nothing) what needs escaping", () => {
        const sink = new ByteSink(1);
        assert.equal(sink.plain("role-1.a_b"), true);
        for (const s of ['a"b', "a\\b", "a\nb", "a\u007fb", "é", "\u2028", "\ud800"]) assert.equal(sink.plain(s), false, JSON.stringify(s));
        assert.equal(sink.json('{\n  "a": "\\n"\n}'), true);
        for (const s of ["\u007f", "é", "\u0085"]) assert.equal(sink.json(s), false, JSON.stringify(s));
        sink.bytes(new Uint8Array(100).fill(0x41));
        assert.equal(Buffer.from(sink.take()).toString("latin1"), `role-1.a_b{\n  "a": "\\n"\n}${"A".repeat(100)}`);
    });

    it("writes a long string as a short one, and refuses it for any character its table refuses, wherever it stands", () => {
        // Long strings are tested by a regular expression made from the table and copied natively: the same answer
        // as the loop, character by character.
        for (const [write, allowed] of [
            // `#` takes the escaping way too: output escaping spells the `[` of `##[` otherwise.
            [(sink: ByteSink, s: string) => sink.plain(s), (c: number) => c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c && c !== 0x23],
            [(sink: ByteSink, s: string) => sink.json(s), (c: number) => c < 0x7f && c !== 0x23],
        ] as const) {
            for (const c of [...Array(0x100).keys(), 0x2028, 0xd800, 0xdfff, 0xfffd]) {
                for (const at of [0, 40, 63, 64, 199]) {
                    for (const length of [63, 64, 200]) {
                        if (at >= length) continue;
                        const s = `${"a".repeat(at)}${String.fromCharCode(c)}${"b".repeat(length - at - 1)}`;
                        const sink = new ByteSink(1);
                        sink.bytes(new Uint8Array([0x3c]));
                        const ok = write(sink, s);
                        assert.equal(ok, allowed(c), `${c} at ${at} of ${length}`);
                        assert.equal(Buffer.from(sink.take()).toString("latin1"), ok ? `<${s}` : "<");
                    }
                }
            }
        }
    });
});

describe("batched", () => {
    it("writes what items.map(render).join(separator) writes, 64 items a chunk", () => {
        for (const n of [0, 1, 63, 64, 65, 200]) {
            const items = Array.from({ length: n }, (_, i) => i);
            const render = (i: number): string => `<li>${i}</li>`;
            for (const sep of ["", "\n"]) {
                const chunks = [...batched(items, render, sep)];
                assert.equal(chunks.join(""), items.map(render).join(sep), `${n} items, separator ${JSON.stringify(sep)}`);
                assert.equal(chunks.length, Math.ceil(n / 64));
            }
        }
    });
});
