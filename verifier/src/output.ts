/**
 * Writing output files (reports, `--output`) without destroying what the path names:
 *
 * - a regular file (or a path that does not exist yet) is replaced atomically: the text goes to a temporary file in
 *   the same directory, is flushed to disk, and is renamed over the target; a full disk or a crash leaves the old
 *   file whole. Symbolic links are followed, so the link stays and its target is replaced;
 * - anything else (a character device such as `/dev/null`, a FIFO, a socket, `/dev/stdout`, `/dev/fd/N`,
 *   `/proc/self/fd/N`) is written in place: renaming over it would replace the device or the link with a file.
 */
import { randomBytes } from "node:crypto";
import {
    closeSync,
    fchmodSync,
    fsyncSync,
    lstatSync,
    mkdirSync,
    openSync,
    readlinkSync,
    realpathSync,
    renameSync,
    rmSync,
    statSync,
    writeSync,
    type Stats,
} from "node:fs";
import { dirname, resolve } from "node:path";
import type { OutputChunk } from "./chunks.js";
import { isAscii } from "./escape.js";

/**
 * Paths that name a stream of this process: written to the descriptor itself, whatever it is (opening
 * `/proc/self/fd/1` fails with ENXIO when it is a socket, and renaming over it would replace the link).
 */
function streamFd(abs: string): number | undefined {
    if (abs === "/dev/stdout") return 1;
    if (abs === "/dev/stderr") return 2;
    const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(abs) ?? new RegExp(`^/proc/${process.pid}/fd/(\\d+)$`).exec(abs);
    return m ? Number(m[1]) : undefined;
}

/** How many symbolic links are followed before giving up (Linux's own limit is 40). */
const MAX_LINKS = 40;

/** What `writeOutputFile` did: `atomic` (temporary file renamed over `target`) or `in-place`. */
export interface WriteOutcome {
    mode: "atomic" | "in-place";
    /** The file actually written (symbolic links resolved). */
    target: string;
}

function statOrUndefined(path: string, follow: boolean): Stats | undefined {
    try {
        return follow ? statSync(path) : lstatSync(path);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
}

/**
 * The file a write to `path` lands in: symbolic links resolved, also a dangling one (whose target is then
 * created). Throws ELOOP-like errors for link cycles.
 */
export function resolveOutputTarget(path: string): string {
    let current = resolve(path);
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
        try {
            return realpathSync(current);
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
        // Not there (yet): a dangling link is followed by hand; the parent directories may not exist either.
        const link = statOrUndefined(current, false);
        if (link === undefined || !link.isSymbolicLink()) {
            let parent: string;
            try {
                parent = realpathSync(dirname(current));
            } catch {
                return current; // the directories are created on write
            }
            return resolve(parent, current.slice(dirname(current).length + 1));
        }
        current = resolve(dirname(current), readlinkSync(current));
    }
    const err = new Error(`too many levels of symbolic links: ${path}`) as NodeJS.ErrnoException;
    err.code = "ELOOP";
    throw err;
}

/**
 * Thrown by {@link writeOutputFile} when making a chunk failed rather than writing it (chunks are rendered as they
 * are written): `cause` is what the producer threw, which is no reason to blame the file.
 */
export class ChunkError extends Error {
    constructor(cause: unknown) {
        super("making a chunk of the output failed", { cause });
        this.name = "ChunkError";
    }
}

/** Writes every chunk of `text` to `fd`, one chunk's bytes at a time. */
function writeChunks(fd: number, text: Iterable<OutputChunk>): void {
    const chunks = text[Symbol.iterator]();
    for (;;) {
        let next: IteratorResult<OutputChunk>;
        try {
            next = chunks.next();
        } catch (e) {
            throw new ChunkError(e);
        }
        if (next.done === true) return;
        const chunk = next.value;
        // ASCII text is its own UTF-8: copied byte for byte (latin1) instead of encoded.
        writeAll(fd, typeof chunk === "string" ? Buffer.from(chunk, isAscii(chunk) ? "latin1" : "utf8") : chunk);
    }
}

function writeAll(fd: number, data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
        try {
            off += writeSync(fd, data, off, data.length - off);
        } catch (e) {
            // A non-blocking pipe that is full: wait for the reader (bounded by the process deadline, if any).
            if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
    }
}

/**
 * Writes `text` (one string, or chunks written as they come: text, or bytes written as they are) to `path` (absolute or relative to the process's working directory), creating missing directories.
 * Atomic for regular files, in place for devices, FIFOs, sockets and the process's own streams.
 * @throws the underlying error (with its `code`) when the file cannot be written, {@link ChunkError} when making a
 * chunk of `text` failed; either way the old file is untouched.
 */
export function writeOutputFile(path: string, text: string | Iterable<OutputChunk>): WriteOutcome {
    const data = typeof text === "string" ? [text] : text;
    const abs = resolve(path);
    const fdOfStream = streamFd(abs);
    if (fdOfStream !== undefined) {
        writeChunks(fdOfStream, data);
        return { mode: "in-place", target: abs };
    }
    const followed = statOrUndefined(abs, true);
    if (followed !== undefined && !followed.isFile() && !followed.isDirectory()) {
        // O_WRONLY|O_TRUNC on a device or FIFO: no file is created, no link replaced.
        const fd = openSync(abs, "w");
        try {
            writeChunks(fd, data);
        } finally {
            closeSync(fd);
        }
        return { mode: "in-place", target: abs };
    }
    const target = resolveOutputTarget(abs);
    mkdirSync(dirname(target), { recursive: true });
    const existing = statOrUndefined(target, true);
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    let fd: number | undefined;
    try {
        // Exclusive create: never follow a link someone planted at the temporary name. Keep the old file's mode.
        fd = openSync(tmp, "wx", 0o666);
        if (existing?.isFile()) fchmodSync(fd, existing.mode & 0o7777);
        writeChunks(fd, data);
        fsyncSync(fd);
        closeSync(fd);
        fd = undefined;
        renameSync(tmp, target);
    } catch (e) {
        if (fd !== undefined) {
            try {
                closeSync(fd);
            } catch {
                // already failing; the original error is the one to report
            }
        }
        rmSync(tmp, { force: true });
        throw e;
    }
    return { mode: "atomic", target };
}

/**
 * The real path of an existing file or of the file a write would create (links followed), for comparing inputs
 * with outputs. Never throws: a path that cannot be resolved compares as itself.
 */
export function realPathOf(path: string): string {
    try {
        return resolveOutputTarget(path);
    } catch {
        return resolve(path);
    }
}
