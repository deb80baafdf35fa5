/** read.ts: reading an input as UTF-8 text within a byte limit, from regular files and from anything else. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { InputReadError, decodeUtf8, readFileBytes, readTextFile, utf16Form } from "./read.js";

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
                // What reads as UTF-16 (a NUL in every other byte) is refused as such, though NUL is valid UTF-8.
                if (want === undefined || utf16Form(raw) !== undefined) assert.throws(() => decodeUtf8(bytes), InputReadError);
                else assert.equal(decodeUtf8(bytes), want);
            }),
            { numRuns: 2000 },
        );
        // ASCII of every byte value below 0x80, and a byte-order mark kept.
        const ascii = Uint8Array.from({ length: 128 }, (_, i) => i);
        assert.equal(decodeUtf8(ascii), String.fromCharCode(...ascii));
        assert.equal(decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), "\ufeff{}");
    });

    it("names UTF-16, with or without a byte-order mark, and says to save as UTF-8", () => {
        const text = '{"Version": "2012-10-17", "Statement": []}';
        const le = Buffer.from(text, "utf16le");
        const be = Buffer.from(le).swap16();
        const cases: [Buffer, RegExp][] = [
            [Buffer.concat([Buffer.of(0xff, 0xfe), le]), /^not UTF-8 but UTF-16 little-endian \(byte-order mark FF FE\): save it as UTF-8$/],
            [Buffer.concat([Buffer.of(0xfe, 0xff), be]), /^not UTF-8 but UTF-16 big-endian \(byte-order mark FE FF\): save it as UTF-8$/],
            [le, /^not UTF-8 but UTF-16 little-endian \(a NUL after each character\): save it as UTF-8$/],
            [be, /^not UTF-8 but UTF-16 big-endian \(a NUL before each character\): save it as UTF-8$/],
            // Characters beyond Latin-1 have no NUL byte: most pairs having one is enough.
            [Buffer.from(`{"k": "\u65e5\u672c", "a": "bcdefghijklmnopqrstu"}`, "utf16le"), /UTF-16 little-endian/],
        ];
        for (const [bytes, want] of cases) {
            assert.throws(() => decodeUtf8(bytes), (e: unknown) => e instanceof InputReadError && e.reason === "invalid-utf8" && want.test(e.message));
        }
        // Not UTF-16: all NULs (no side has the characters), and UTF-8 text.
        assert.equal(utf16Form(new Uint8Array(100)), undefined);
        assert.equal(utf16Form(Buffer.from(text)), undefined);
        assert.equal(decodeUtf8(Buffer.from("caf\u00e9")), "caf\u00e9");
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

    it("a FIFO that does not end is an error once its time is up (as standard input is), never a wait without end", () => {
        // Each case's writer ends by itself after 5 s, so that a read without a time limit fails the test rather
        // than hanging it.
        const cases: [string, string][] = [
            // `check <(sleep 900)`: a writer that holds the FIFO open and never finishes (here: after some bytes).
            ["writer-stalls", `const fs = require("fs"); const fd = fs.openSync(process.argv[1], "w"); fs.writeSync(fd, "{"); setTimeout(() => {}, 5000);`],
            // A FIFO no writer ever opens (the writer here only opens it, and closes it, after 5 s).
            ["no-writer", `setTimeout(() => require("fs").closeSync(require("fs").openSync(process.argv[1], "w")), 5000);`],
        ];
        for (const [name, script] of cases) {
            const fifo = join(tmp, `never-${name}`);
            if (spawnSync("mkfifo", [fifo]).status !== 0) assert.fail("mkfifo is needed for this test");
            const writer = spawn(process.execPath, ["-e", script, fifo], { stdio: "ignore" });
            try {
                const t0 = performance.now();
                assert.throws(
                    () => readTextFile(fifo, 1024, 300),
                    (e: unknown) =>
                        e instanceof InputReadError &&
                        e.reason === "timeout" &&
                        e.message === "a pipe (FIFO) that did not end within 0.3 s; write the document to a file and check that",
                    name,
                );
                const took = performance.now() - t0;
                assert.ok(took >= 290 && took < 3000, `${name}: ${took} ms`);
            } finally {
                writer.kill();
            }
        }
    });

    it("a FIFO whose writer comes later is waited for, within the time limit", async () => {
        const fifo = join(tmp, "late-fifo");
        if (spawnSync("mkfifo", [fifo]).status !== 0) assert.fail("mkfifo is needed for this test");
        const writer = spawn(process.execPath, ["-e", `setTimeout(() => require("fs").writeFileSync(process.argv[1], '{"late": true}'), 300)`, fifo]);
        assert.equal(readTextFile(fifo, 1024, 10_000), '{"late": true}');
        await new Promise((resolve) => writer.on("close", resolve));
    });

    it("a pipe handed over by name (`check <(cmd)`, /dev/fd/N) that ends with nothing is read at once, not after the time limit", (t) => {
        if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("bash is needed for process substitution");
        // The CLI from source, as a user runs it: `<(true)` is /dev/fd/63, a pipe whose writer has already finished.
        const cli = join(__dirname, "cli.ts");
        const t0 = performance.now();
        const r = spawnSync("bash", ["-c", `exec "${process.execPath}" --conditions=oidc-guard-source --import tsx "${cli}" check <(true)`], {
            encoding: "utf8",
            timeout: 60_000,
        });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /\/dev\/fd\/\d+: not valid JSON: Empty input/);
        // Start-up included; the time limit (10 minutes) is never waited for.
        assert.ok(performance.now() - t0 < 30_000);
    });

    it("refuses a terminal rather than waiting for someone to type", (t) => {
        // /dev/ptmx opens a new pseudo-terminal (its master side): a terminal wherever it exists.
        let why: string | undefined;
        try {
            readFileBytes("/dev/ptmx", 10, Infinity, 100);
        } catch (e) {
            if (e instanceof InputReadError && e.reason === "io" && e.code !== undefined) return t.skip(`no pseudo-terminal here (${e.code})`);
            why = e instanceof Error ? e.message : String(e);
        }
        assert.match(why ?? "read", /^a terminal: name a file, or pipe the document into `oidc-guard check -`$/);
    });

    it("says which input cannot be opened", () => {
        assert.equal(reason(() => readTextFile(join(tmp, "missing.json"))), "io");
    });
});
