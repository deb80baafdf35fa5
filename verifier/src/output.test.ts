import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ChunkError, resolveOutputTarget, writeOutputFile } from "./output.js";

let tmp: string;
before(() => {
    tmp = mkdtempSync(join(tmpdir(), "oidc-guard-output-"));
});
after(() => {
    rmSync(tmp, { recursive: true, force: true });
});

describe("writeOutputFile", () => {
    it("replaces a regular file atomically (new inode, same mode, no temporary left behind)", () => {
        const f = join(tmp, "a", "report.json");
        mkdirSync(join(tmp, "a"));
        writeFileSync(f, "old", { mode: 0o640 });
        const before = statSync(f);
        assert.deepEqual(writeOutputFile(f, "new"), { mode: "atomic", target: f });
        const after = statSync(f);
        assert.equal(readFileSync(f, "utf8"), "new");
        assert.notEqual(after.ino, before.ino, "renamed over, not rewritten in place");
        assert.equal(after.mode & 0o777, 0o640);
        assert.deepEqual(readdirSync(join(tmp, "a")), ["report.json"]);
    });

    it("creates missing directories", () => {
        const f = join(tmp, "x", "y", "z.txt");
        writeOutputFile(f, "z");
        assert.equal(readFileSync(f, "utf8"), "z");
    });

    it("follows a symbolic link: the link stays, its target gets the text", () => {
        const real = join(tmp, "real.sarif");
        const link = join(tmp, "link.sarif");
        writeFileSync(real, "old");
        symlinkSync(real, link);
        assert.equal(writeOutputFile(link, "new").target, real);
        assert.ok(lstatSync(link).isSymbolicLink());
        assert.equal(readlinkSync(link), real);
        assert.equal(readFileSync(real, "utf8"), "new");
    });

    it("follows a dangling symbolic link and creates its target", () => {
        const link = join(tmp, "dangling.html");
        symlinkSync("made-by-write.html", link);
        assert.equal(resolveOutputTarget(link), join(tmp, "made-by-write.html"));
        writeOutputFile(link, "<p>");
        assert.ok(lstatSync(link).isSymbolicLink());
        assert.equal(readFileSync(join(tmp, "made-by-write.html"), "utf8"), "<p>");
    });

    it("writes /dev/null in place: it stays a character device", () => {
        assert.equal(writeOutputFile("/dev/null", "<html>").mode, "in-place");
        assert.ok(statSync("/dev/null").isCharacterDevice());
    });

    it("writes /dev/stdout in place, and its reader gets the text", () => {
        const script = `require(${JSON.stringify(join(__dirname, "output.ts"))}).writeOutputFile("/dev/stdout", "to the pipe\\n")`;
        const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "to the pipe\n");
    });

    it("writes a FIFO in place: its reader gets the text and the FIFO stays", async () => {
        const fifo = join(tmp, "fifo");
        assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
        const reader = spawn("cat", [fifo]);
        let got = "";
        reader.stdout.on("data", (d: Buffer) => (got += d.toString("utf8")));
        const done = new Promise<void>((res) => reader.on("close", () => res()));
        assert.equal(writeOutputFile(fifo, "through the fifo").mode, "in-place");
        await done;
        assert.equal(got, "through the fifo");
        assert.ok(lstatSync(fifo).isFIFO());
    });

    it("writes chunks as they come: ASCII and UTF-8 chunks alike, the result one text", () => {
        const path = join(tmp, "chunks.json");
        // A chunk whose only non-ASCII characters are Latin-1 (V8 keeps it one byte per character) is UTF-8 too.
        const chunks = ["{\"a\": [", "\"plain ascii\", ", "\"caf\u00e9\", ", "\"caf\u00e9 \ud83d\ude00\"", "]}\n"];
        function* gen(): Generator<string> {
            yield* chunks;
        }
        assert.equal(writeOutputFile(path, gen()).mode, "atomic");
        assert.equal(readFileSync(path, "utf8"), chunks.join(""));
        assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { a: ["plain ascii", "caf\u00e9", "caf\u00e9 \ud83d\ude00"] });
    });

    it("tells a chunk that could not be made from a write that failed, and leaves the old file whole", () => {
        const dir = join(tmp, "render-fails");
        mkdirSync(dir);
        const f = join(dir, "r.json");
        writeFileSync(f, "old");
        const boom = new RangeError("renderer bug");
        function* gen(): Generator<string> {
            yield "new, part 1";
            throw boom;
        }
        assert.throws(() => writeOutputFile(f, gen()), (e: unknown) => e instanceof ChunkError && e.cause === boom);
        assert.equal(readFileSync(f, "utf8"), "old");
        assert.deepEqual(readdirSync(dir), ["r.json"], "no temporary file left behind");
        // A failed write is the file's own error, not a ChunkError.
        mkdirSync(join(dir, "isdir"));
        assert.throws(() => writeOutputFile(join(dir, "isdir"), ["new"]), (e: unknown) => !(e instanceof ChunkError) && (e as NodeJS.ErrnoException).code !== undefined);
    });

    it("leaves the old file whole when the write fails", () => {
        const dir = join(tmp, "fail");
        mkdirSync(dir);
        const f = join(dir, "r.json");
        writeFileSync(f, "old");
        // A directory cannot be renamed over by a file: the write fails after the temporary is written.
        const target = join(dir, "isdir");
        mkdirSync(target);
        writeFileSync(join(target, "keep"), "");
        assert.throws(() => writeOutputFile(target, "new"));
        assert.equal(readFileSync(f, "utf8"), "old");
        assert.deepEqual(readdirSync(dir).sort(), ["isdir", "r.json"], "no temporary file left behind");
    });
});
