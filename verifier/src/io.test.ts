/** io.ts: long output is written chunk by chunk, waiting for a full stream to drain. */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { writeChunked } from "./io.js";
import { textOf, type OutputChunk } from "./chunks.js";

describe("writeChunked", () => {
    it("waits for a slow stream to drain: all chunks arrive in order, and the buffer never holds more than one chunk past its mark", async () => {
        const received: string[] = [];
        let peak = 0;
        const out = new Writable({
            highWaterMark: 1024,
            decodeStrings: false,
            write(chunk: string, _enc, done) {
                received.push(chunk);
                setTimeout(done, 1);
            },
        });
        const chunks = Array.from({ length: 50 }, (_, i) => `${i}:`.padEnd(700, "x"));
        function* gen(): Generator<string> {
            for (const c of chunks) {
                peak = Math.max(peak, out.writableLength);
                yield c;
            }
        }
        await writeChunked(out, gen());
        await new Promise<void>((resolve) => out.end(resolve));
        assert.equal(received.join(""), chunks.join(""));
        assert.ok(peak <= 1024 + 700, `buffered ${peak} bytes`);
    });

    it("writes to a plain sink (no events) without waiting", async () => {
        const got: string[] = [];
        await writeChunked({ write: (c: OutputChunk) => got.push(textOf(c)) }, ["a", "b", "c"]);
        assert.deepEqual(got, ["a", "b", "c"]);
    });

    it("stops waiting when the stream fails", async () => {
        const out = new Writable({
            highWaterMark: 1,
            write(_chunk, _enc, done) {
                done(new Error("EPIPE"));
            },
        });
        out.on("error", () => undefined);
        await writeChunked(out, ["aaaa", "bbbb", "cccc"]);
    });
});
