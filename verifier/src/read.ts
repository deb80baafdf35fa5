/**
 * Reading input files with a bound: the size limit is enforced while reading (never taken from `stat`, which says
 * 0 for `/dev/zero`, FIFOs and `/proc` files), a FIFO or device must end within a time limit (it may never end:
 * `check <(sleep 900)`), and the bytes must be valid UTF-8 (never silently replaced; UTF-16 is named as such).
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from "node:fs";
import { isAscii } from "node:buffer";
import { isatty } from "node:tty";
import { CliError, EXIT } from "./io.js";

/** Default limit for one input file (`check` inputs, `report` result and source files): 256 MiB. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** Largest accepted `--max-input-mib`: 4096 MiB. */
export const MAX_INPUT_MIB = 4096;

/**
 * Parses a `--max-input-mib` value (a whole number from 1 to {@link MAX_INPUT_MIB}) into bytes.
 * @throws CliError (exit 2) for anything else.
 */
export function parseMaxInputMib(v: string): number {
    const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_INPUT_MIB) {
        throw new CliError(`--max-input-mib must be a whole number of MiB from 1 to ${MAX_INPUT_MIB}`, EXIT.usage);
    }
    return n * 1024 * 1024;
}

/**
 * How long a FIFO, a pipe or a character device may take to end (standard input too): 10 minutes, long enough for a
 * slow `aws iam get-account-authorization-details` writing into `check <(…)`.
 */
export const STREAM_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Why an input could not be read: `too-large`, `invalid-utf8` and `timeout` (a FIFO or device that did not end in
 * time) are the input's fault, `io` the system's.
 */
export class InputReadError extends Error {
    constructor(
        message: string,
        readonly reason: "too-large" | "invalid-utf8" | "timeout" | "io",
        /** The errno code for `io` (ENOENT, EACCES, EISDIR…). */
        readonly code?: string,
    ) {
        super(message);
        this.name = "InputReadError";
    }
}

/** `256 MiB`, `1.5 MiB`, `512 bytes`. */
export function formatBytes(n: number): string {
    if (n < 1024 * 1024) return `${n} bytes`;
    const mib = n / (1024 * 1024);
    return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (for the message). */
function firstInvalidUtf8(b: Uint8Array): number {
    let i = 0;
    while (i < b.length) {
        const c = b[i]!;
        let n: number;
        let min: number;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
        else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
        else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
        else return i;
        let cp = c & (0x3f >> n);
        for (let k = 1; k <= n; k++) {
            const d = b[i + k];
            if (d === undefined || (d & 0xc0) !== 0x80) return i;
            cp = (cp << 6) | (d & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n + 1;
    }
    return -1;
}

/** `600 s`, `0.3 s`. */
export function formatSeconds(ms: number): string {
    return `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
}

/**
 * The UTF-16 form `bytes` are in, by their byte-order mark (FF FE, FE FF) or, without one, by a NUL in every other
 * byte of the first 64 (a JSON or YAML document starts with ASCII, which UTF-16 writes as a NUL and the character);
 * undefined for anything else. NUL is valid UTF-8, but neither JSON nor YAML text holds one raw.
 */
export function utf16Form(bytes: Uint8Array): string | undefined {
    if (bytes.length >= 2) {
        if (bytes[0] === 0xff && bytes[1] === 0xfe) return "UTF-16 little-endian (byte-order mark FF FE)";
        if (bytes[0] === 0xfe && bytes[1] === 0xff) return "UTF-16 big-endian (byte-order mark FE FF)";
    }
    const n = Math.min(bytes.length, 64) & ~1;
    if (n < 4) return undefined;
    let evenNuls = 0;
    let oddNuls = 0;
    for (let i = 0; i < n; i += 2) {
        if (bytes[i] === 0) evenNuls++;
        if (bytes[i + 1] === 0) oddNuls++;
    }
    // Characters beyond Latin-1 have no NUL: most of the pairs, not all, must have one, always on the same side.
    const pairs = n / 2;
    if (evenNuls === 0 && oddNuls * 2 >= pairs) return "UTF-16 little-endian (a NUL after each character)";
    if (oddNuls === 0 && evenNuls * 2 >= pairs) return "UTF-16 big-endian (a NUL before each character)";
    return undefined;
}

/**
 * Decodes UTF-8 strictly; a leading byte-order mark is kept (JSON readers skip it).
 * @throws InputReadError (`invalid-utf8`): the offset of the first byte that is not UTF-8, or which UTF-16 form the
 *   bytes are in (a Windows editor's "Unicode"), with what to do.
 */
export function decodeUtf8(bytes: Uint8Array): string {
    const utf16 = utf16Form(bytes);
    if (utf16 !== undefined) throw new InputReadError(`not UTF-8 but ${utf16}: save it as UTF-8`, "invalid-utf8");
    // ASCII (nearly every input) is its own UTF-8, and Latin-1 decodes it as it is: 82 ms against 109 ms for a 145 MB
    // export, the test included (which also rules out a byte-order mark).
    if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
        const at = firstInvalidUtf8(bytes);
        throw new InputReadError(`not valid UTF-8 (invalid byte sequence at byte ${at < 0 ? "?" : at})`, "invalid-utf8");
    }
}

/** The errno code of a failed call, as an {@link InputReadError} of reason `io`. */
function ioError(e: unknown): InputReadError {
    const code = (e as NodeJS.ErrnoException).code;
    const message = code === "ELOOP" ? "too many levels of symbolic links (ELOOP)" : (code ?? String(e));
    return new InputReadError(message, "io", code);
}

function tooLarge(maxBytes: number): InputReadError {
    return new InputReadError(`larger than the input limit of ${formatBytes(maxBytes)}`, "too-large");
}

/** One read of a regular file into `buf` at `offset` (0 at the end). */
function readSome(fd: number, buf: Buffer, offset: number, length: number): number {
    for (;;) {
        try {
            return readSync(fd, buf, offset, length, null);
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== "EAGAIN" && code !== "EINTR") throw ioError(e);
        }
    }
}

/**
 * Reads `path` as UTF-8 text, at most `maxBytes` bytes. Works on regular files, devices, FIFOs and `/proc` files.
 * @throws InputReadError: `too-large` once more than `maxBytes` bytes arrive (the rest is never read),
 *   `invalid-utf8`, `timeout` (a FIFO or device that did not end within `timeoutMs`), or `io` (message and `code`:
 *   the errno code, e.g. ENOENT).
 */
export function readTextFile(path: string, maxBytes = DEFAULT_MAX_INPUT_BYTES, timeoutMs = STREAM_TIMEOUT_MS): string {
    return decodeUtf8(readFileBytes(path, maxBytes, Infinity, timeoutMs));
}

/**
 * The bytes of `path`, at most `maxBytes`, as {@link readTextFile} reads them (and throws the same errors but
 * `invalid-utf8`: they are not decoded). A regular file of at least `sharedFrom` bytes is read into shared memory
 * (a `SharedArrayBuffer`), which another thread can read while this one decodes it. A FIFO, a pipe or a character
 * device must end within `timeoutMs` ({@link STREAM_TIMEOUT_MS} unless told): its writer may never finish.
 */
export function readFileBytes(
    path: string,
    maxBytes = DEFAULT_MAX_INPUT_BYTES,
    sharedFrom = Infinity,
    timeoutMs = STREAM_TIMEOUT_MS,
): Uint8Array {
    let fd: number;
    try {
        // Opened without blocking: a FIFO no writer has opened yet would block the open itself, with no time limit.
        fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (e) {
        throw ioError(e);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
        // A regular file is read into one buffer of its size (plus a byte, to see it grow): no chunk list and no
        // second copy of a large input while it is joined. Anything else, or a file that grew, goes on in chunks.
        let size = -1;
        let st: Stats | undefined;
        try {
            st = fstatSync(fd);
            if (st.isFile()) size = st.size;
        } catch {
            // fstat failing is not worth an error of its own: the chunked read reports what is wrong.
        }
        if (st !== undefined && !st.isFile() && !st.isDirectory()) return readStream(fd, path, st, maxBytes, timeoutMs);
        if (size >= 0 && size <= maxBytes) {
            const whole = size >= sharedFrom ? Buffer.from(new SharedArrayBuffer(size + 1)) : Buffer.allocUnsafe(size + 1);
            let n = 0;
            for (;;) {
                const k = readSome(fd, whole, n, whole.length - n);
                if (k === 0) break;
                n += k;
                if (n === whole.length) break;
            }
            if (n <= size) return whole.subarray(0, n);
            chunks.push(whole.subarray(0, n));
            total = n;
            if (total > maxBytes) throw tooLarge(maxBytes);
        }
        for (;;) {
            // One byte past the limit tells "exactly at the limit" from "over it".
            const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
            const n = readSome(fd, buf, 0, buf.length);
            if (n === 0) break;
            total += n;
            if (total > maxBytes) throw tooLarge(maxBytes);
            chunks.push(buf.subarray(0, n));
        }
    } finally {
        closeSync(fd);
    }
    return Buffer.concat(chunks, total);
}

/** Waits while a FIFO or device has nothing to read: from this short pause, doubling up to the longest. */
const FIRST_PAUSE_MS = 0.05;
const LONGEST_PAUSE_MS = 20;
/** What this thread waits on to pause (nothing ever wakes it: each wait ends by its timeout). */
const PAUSE_CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * True for a pipe this process was handed with a name (`<(…)` is `/dev/fd/63`; `/dev/stdin`): its writer opened it
 * before it was named, so reading nothing and no writer means it has ended. A named FIFO (`mkfifo`) may not have
 * its writer yet.
 */
function handedPipe(path: string): boolean {
    if (/^\/(?:dev\/fd\/\d+|dev\/stdin|proc\/self\/fd\/\d+)$/.test(path)) return true;
    try {
        return /\/pipe:\[\d+\]$/.test(realpathSync(path));
    } catch {
        return false;
    }
}

/**
 * Reads a FIFO, a pipe or a character device (opened without blocking) to its end, within `timeoutMs` and
 * `maxBytes`: what has nothing to read yet is read again after a pause, until the time is up. Refuses a terminal.
 */
function readStream(fd: number, path: string, st: Stats, maxBytes: number, timeoutMs: number): Buffer {
    const what = st.isFIFO() ? "a pipe (FIFO)" : st.isCharacterDevice() ? "a character device" : "not a regular file";
    if (isatty(fd)) throw new InputReadError("a terminal: name a file, or pipe the document into `oidc-guard check -`", "io");
    const deadline = performance.now() + timeoutMs;
    // A named FIFO reads as ended (0 bytes) until a writer opens it: only what came after a writer (bytes, or
    // "nothing yet" while it is open) tells that a read of 0 bytes is the end.
    let started = !st.isFIFO() || handedPipe(path);
    const chunks: Buffer[] = [];
    let total = 0;
    // One byte past the limit tells "exactly at the limit" from "over it"; each buffer is filled before the next.
    let buf = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1));
    let used = 0;
    let pause = FIRST_PAUSE_MS;
    for (;;) {
        let n: number;
        try {
            n = readSync(fd, buf, used, buf.length - used, null);
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== "EAGAIN" && code !== "EWOULDBLOCK" && code !== "EINTR") throw ioError(e);
            // Nothing to read yet, from a writer that has it open.
            n = -1;
            started ||= code !== "EINTR";
        }
        if (n > 0) {
            started = true;
            pause = FIRST_PAUSE_MS;
            used += n;
            total += n;
            if (total > maxBytes) throw tooLarge(maxBytes);
            if (used === buf.length) {
                chunks.push(buf);
                buf = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
                used = 0;
            }
            continue;
        }
        if (n === 0 && started) break;
        const left = deadline - performance.now();
        if (left <= 0) {
            throw new InputReadError(
                `${what} that did not end within ${formatSeconds(timeoutMs)}; write the document to a file and check that`,
                "timeout",
            );
        }
        Atomics.wait(PAUSE_CELL, 0, 0, Math.min(pause, left));
        pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
    }
    chunks.push(buf.subarray(0, used));
    return Buffer.concat(chunks, total);
}
