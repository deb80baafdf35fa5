/** read.ts: reading an input as UTF-8 text within a byte limit, from regular files and from anything else. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { InputReadError, decodeUtf8, readFileBytes, readTextFile } from "./read.js";

let tmp: string;
before(() => {
    tmp = mkdtempSync(join(tmpdir(), "oidc-guard-read-"));
});
after(() => {
    rmSync(tmp, { recursive: true, force: true });
});

function reason(f: () => unknown): string | undefined {
    try {
        f();
    } catch (e) {
        return e instanceof InputReadError ? e.reason : `other: ${String(e)}`;
    }
    return undefined;
}

describe("readFileBytes", () => {
    it("reads a regular file of at least sharedFrom bytes into shared memory, a smaller one not, the same bytes", () => {
        const p = join(tmp, "shared.json");
        const text = `{"k\u00e9y": "${"v".repeat(5000)}"}`;
        writeFileSync(p, text);
        const size = Buffer.byteLength(text);
        const shared = readFileBytes(p, 1024 * 1024, size);
        assert.ok(shared.buffer instanceof SharedArrayBuffer);
        assert.equal(Buffer.from(shared).toString("utf8"), text);
        assert.equal(shared.length, size);
        for (const plain of [readFileBytes(p, 1024 * 1024, size + 1), readFileBytes(p)]) {
            assert.ok(!(plain.buffer instanceof SharedArrayBuffer));
            assert.equal(Buffer.from(plain).toString("utf8"), text);
        }
        // The limit holds for shared memory too; bytes are not decoded (readTextFile refuses what is not UTF-8).
        assert.equal(reason(() => readFileBytes(p, size - 1, 0)), "too-large");
        writeFileSync(p, Buffer.from([0x7b, 0xff, 0x7d]));
        assert.deepEqual([...readFileBytes(p, 10, 0)], [0x7b, 0xff, 0x7d]);
        assert.equal(reason(() => readTextFile(p)), "invalid-utf8");
    });
});

describe("decodeUtf8", () => {
    it("decodes what TextDecoder decodes, ASCII or not, shared memory or not, and refuses what it refuses", () => {
        // All ASCII (the fast way) half the time, any bytes the other half.
        const inputs = fc.oneof(fc.uint8Array({ max: 0x7f, maxLength: 64 }), fc.uint8Array({ maxLength: 64 }));
        fc.assert(
            fc.property(inputs, fc.boolean(), (raw, shared) => {
                const bytes = shared ? new Uint8Array(new SharedArrayBuffer(raw.length + 3), 1, raw.length) : raw;
                bytes.set(raw);
                let want: string | undefined;
                try {
                    want = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
                } catch {
                    want = undefined;
                }
                if (want === undefined) assert.throws(() => decodeUtf8(bytes), InputReadError);
                else assert.equal(decodeUtf8(bytes), want);
            }),
            { numRuns: 2000 },
        );
        // ASCII of every byte value below 0x80, and a byte-order mark kept.
        const ascii = Uint8Array.from({ length: 128 }, (_, i) => i);
        assert.equal(decodeUtf8(ascii), String.fromCharCode(...ascii));
        assert.equal(decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), "\ufeff{}");
    });
});

describe("readTextFile", () => {
    it("reads a regular file whole: empty, ASCII, multi-byte UTF-8 (one buffer of the file's size)", () => {
        for (const text of ["", '{"a": 1}', "caf\u00e9 \u{1F600} \u2028", "x".repeat(3 * 1024 * 1024 + 7)]) {
            const p = join(tmp, "f.json");
            writeFileSync(p, text);
            assert.equal(readTextFile(p), text);
        }
    });

    it("takes a file of exactly the limit and refuses one byte more", () => {
        const p = join(tmp, "limit.json");
        writeFileSync(p, "y".repeat(1000));
        assert.equal(readTextFile(p, 1000).length, 1000);
        assert.equal(reason(() => readTextFile(p, 999)), "too-large");
    });

    it("refuses invalid UTF-8 with the byte offset", () => {
        const p = join(tmp, "latin1.json");
        writeFileSync(p, Buffer.from([0x7b, 0x22, 0x61, 0xe9, 0x22, 0x7d]));
        assert.throws(() => readTextFile(p), /not valid UTF-8 \(invalid byte sequence at byte 3\)/);
    });

    it("reads what is not a regular file in chunks, and stops at the limit (/dev/zero never ends)", () => {
        assert.equal(reason(() => readTextFile("/dev/zero", 3 * 1024 * 1024)), "too-large");
    });

    it("reads a FIFO to its end", async () => {
        const fifo = join(tmp, "fifo");
        if (spawnSync("mkfifo", [fifo]).status !== 0) assert.fail("mkfifo is needed for this test");
        const text = "z".repeat(2 * 1024 * 1024 + 3);
        const writer = spawn(process.execPath, ["-e", `require("fs").writeFileSync(${JSON.stringify(fifo)}, "z".repeat(${text.length}))`]);
        assert.equal(readTextFile(fifo), text);
        await new Promise((resolve) => writer.on("close", resolve));
    });

    it("says which input cannot be opened", () => {
        assert.equal(reason(() => readTextFile(join(tmp, "missing.json"))), "io");
    });
});
