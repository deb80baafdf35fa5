/**
 * Large reports written in chunks (a check of 100,000 roles is about 300 MB of JSON, its SARIF log 340 MB, its HTML
 * page 290 MB): V8 strings stop at 512 MiB, so one string would end such a run with an internal error, and a few
 * chunks at a time also keep the peak low.
 *
 * - {@link jsonChunks}: byte for byte what `JSON.stringify(value, null, 2)` writes. The long arrays of the value are
 *   marked {@link ChunkedArray}: the rest (the skeleton) is stringified whole, and each marked array is stringified
 *   a batch of items at a time, at the indentation it has in the whole document.
 * - {@link batched}: rendered items of a text format (HTML rows, JUnit test cases) joined, a batch at a time.
 */

/**
 * How many items one chunk holds: small chunks keep the peak low. 4 results (about 12 KB) measured best when every
 * result was held until the end; written while checking, 8 (about 25 KB) took 3.70 s against 3.87 s for 4 over
 * 100,000 roles (16: 3.72 s; 64: 3.93 s), with the same peak.
 */
const BATCH = 8;

let nextId = 0;

/**
 * A piece of output: text, or bytes already escaped for the output and encoded as UTF-8 (a JSON report's chunks
 * when it is written as bytes, and the results another thread rendered, {@link RenderedItems}).
 */
export type OutputChunk = string | Uint8Array;

const UTF8 = new TextDecoder();

/** A chunk as text: bytes decoded as UTF-8. */
export function textOf(chunk: OutputChunk): string {
    return typeof chunk === "string" ? chunk : UTF8.decode(chunk);
}

/** `chunks` as text: bytes decoded as UTF-8. */
export function* textChunks(chunks: Iterable<OutputChunk>): Generator<string> {
    for (const c of chunks) yield textOf(c);
}

/** The text of `chunks` joined: bytes decoded as UTF-8. */
export function joinChunks(chunks: Iterable<OutputChunk>): string {
    return [...textChunks(chunks)].join("");
}

/**
 * An array of a value given to {@link jsonChunks}, written a few items at a time. Each source item stands for the
 * items `expand` makes of it (a report entry for its SARIF results), made only when its batch is written.
 */
/** What {@link jsonChunks} needs of a {@link ChunkedArray}, whatever its item type. */
export interface Chunked {
    readonly mark: string;
    items(): Iterable<unknown>;
    /** Finds the items that have bytes of their own ({@link renderItemBytes}); only with an `escape` that encodes. */
    readonly written?: ItemWriter;
}

export class ChunkedArray<T = unknown> implements Chunked {
    /** Stands for the array in the skeleton: a string no value can hold (`JSON.stringify` writes the NUL as `\u0000`). */
    readonly mark = `\u0000chunked-array-${nextId++}`;
    constructor(
        /** The items; an iterable that makes them as they are asked for is read once, as the array is written. */
        private readonly source: Iterable<T>,
        private readonly expand: (item: T) => readonly unknown[] = (item) => [item],
        readonly written?: ItemWriter,
    ) {}

    /** The array's items, each source item expanded when it is reached. */
    *items(): Generator<unknown> {
        for (const item of this.source) yield* this.expand(item);
    }

    /** What `JSON.stringify` writes in the skeleton. */
    toJSON(): string {
        return this.mark;
    }
}

/**
 * A value of a {@link jsonChunks} document known only once everything before it is written (a count of the results
 * made while they were written). It stands for the value in the skeleton; `value()` is asked when it is reached.
 */
export class LateValue {
    readonly mark = `\u0000late-value-${nextId++}`;
    constructor(readonly value: () => unknown) {}

    /** What `JSON.stringify` writes in the skeleton. */
    toJSON(): string {
        return this.mark;
    }
}

/**
 * `JSON.stringify(value, null, 2)` and a newline, in chunks; `arrays` are the {@link ChunkedArray}s and
 * {@link LateValue}s inside `value`. `escape` is applied to each chunk it renders (escaping for output is per
 * character, so chunks can be escaped alone), and may encode it too; items rendered elsewhere
 * ({@link RenderedItems}) are written as the bytes they come as, which their maker escaped and encoded.
 */
export function* jsonChunks(
    value: unknown,
    arrays: readonly (Chunked | LateValue)[],
    escape: (s: string) => OutputChunk = (s) => s,
): Generator<OutputChunk> {
    const skeleton = `${JSON.stringify(value, null, 2)}\n`;
    // Marks in document order; an array left out of `value` has no mark in the skeleton.
    const found = arrays
        .map((a) => ({ a, quoted: JSON.stringify(a.mark) }))
        .map((m) => ({ ...m, at: skeleton.indexOf(m.quoted) }))
        .filter((m) => m.at >= 0)
        .sort((x, y) => x.at - y.at);
    // A string of the skeleton equal to a mark would be cut as the array: refused, never written wrong. So is a mark
    // whose array or value was not given (it would be written as its mark).
    for (const m of found) if (skeleton.indexOf(m.quoted, m.at + 1) >= 0) throw new Error("jsonChunks: a value of the skeleton spells a chunked array's mark");
    const marks = skeleton.split(/"\\u0000(?:chunked-array|late-value)-\d+"/).length - 1;
    if (marks !== found.length) throw new Error("jsonChunks: the skeleton holds a chunked array or late value that was not given");
    let from = 0;
    for (const { a, quoted, at } of found) {
        // The array's own line: its items go two spaces deeper, its closing bracket at the line's indentation.
        const lineStart = skeleton.lastIndexOf("\n", at) + 1;
        let indent = 0;
        while (skeleton.charCodeAt(lineStart + indent) === 0x20) indent++;
        const pad = " ".repeat(indent);
        if (a instanceof LateValue) {
            // Written at the indentation of its line (JSON.stringify writes no raw newline inside a string).
            yield escape(`${skeleton.slice(from, at)}${(JSON.stringify(a.value(), null, 2) ?? "null").replace(/\n/g, `\n${pad}`)}`);
            from = at + quoted.length;
            continue;
        }
        // Written with the first batch: an array that turns out empty is `[]`, as JSON.stringify writes it.
        let head: string | undefined = `${skeleton.slice(from, at)}[\n`;
        let batch: unknown[] = [];
        const depth = indent >> 1;
        const flush = (items: string): OutputChunk => {
            const chunk = head === undefined ? `,\n${items}` : `${head}${items}`;
            head = undefined;
            batch = [];
            return escape(chunk);
        };
        // A batch's chunks: its text, or with items of their own bytes, the separator or head and the batch's bytes.
        const written = a.written;
        const rendered = (): OutputChunk[] => {
            if (written === undefined) return [flush(renderItems(batch, depth))];
            const bytes = renderItemBytes(batch, depth, written, (t) => bytesOf(escape(t)));
            return [flush(""), bytes];
        };
        for (const x of a.items()) {
            if (x instanceof RenderedItems) {
                // Rendered ahead for this depth (another thread's results): written after the items before them.
                if (x.depth !== depth) throw new Error(`jsonChunks: items rendered for depth ${x.depth} in an array at depth ${depth}`);
                if (batch.length > 0) yield* rendered();
                if (x.bytes.length === 0) continue;
                yield flush("");
                yield x.bytes;
                continue;
            }
            batch.push(x);
            if (batch.length >= BATCH) yield* rendered();
        }
        if (batch.length > 0) yield* rendered();
        yield escape(head === undefined ? `\n${pad}]` : `${skeleton.slice(from, at)}[]`);
        from = at + quoted.length;
    }
    yield escape(skeleton.slice(from));
}

/** A chunk as bytes: text encoded as UTF-8. */
function bytesOf(chunk: OutputChunk): Uint8Array {
    return typeof chunk === "string" ? UTF8_OUT.encode(chunk) : chunk;
}

/**
 * `items` as `JSON.stringify(array, null, 2)` writes them inside an array `depth` arrays deep: each item at that
 * indentation, joined by `,\n`, without the brackets. {@link jsonChunks} writes every batch this way, so items rendered
 * apart (another thread's, {@link RenderedItems}) are the same bytes as items it renders itself.
 */
export function renderItems(items: readonly unknown[], depth: number): string {
    if (items.length === 0) return "";
    // Stringified inside `depth` more arrays, which puts the items exactly as deep as the array's own (two spaces per
    // level); the wrapping lines are cut off, nothing is re-indented.
    let wrapped: unknown = items;
    for (let d = 0; d < depth; d++) wrapped = [wrapped];
    const text = JSON.stringify(wrapped, null, 2);
    let cut = 0;
    for (let j = 0; j <= depth; j++) cut += 2 * j + 2;
    return text.slice(cut, text.length - cut);
}

/**
 * Bytes written one after another into one buffer that grows as needed: the bytes of items written from templates
 * ({@link ItemWriter}) and the others' next to them.
 */
export class ByteSink {
    /**
     * Not zero-filled (zeroing a block's 1.5 MB cost more than writing most of it): only what was written is ever read
     * ({@link take}). Its own memory, never a slice of Node's pool: it can be transferred.
     */
    private buf: Buffer<ArrayBuffer>;
    private len = 0;

    /** `size`: the bytes expected (the buffer doubles when it must hold more). */
    constructor(size = 4096) {
        this.buf = Buffer.allocUnsafeSlow(Math.max(64, size));
    }

    private room(n: number): void {
        if (this.len + n <= this.buf.length) return;
        const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.len + n));
        grown.set(this.buf.subarray(0, this.len));
        this.buf = grown;
    }

    bytes(b: Uint8Array): void {
        const n = b.length;
        this.room(n);
        // A short piece copied here: set() costs more than the copy below a few dozen bytes.
        if (n < 48) {
            const buf = this.buf;
            const at = this.len;
            for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
        } else this.buf.set(b, this.len);
        this.len += n;
    }

    /** How many bytes were written. */
    get length(): number {
        return this.len;
    }

    /** `s` encoded as UTF-8 (a lone surrogate as U+FFFD), then a newline. */
    line(s: string): void {
        // At most three bytes a UTF-16 code unit (a pair, four bytes for two).
        this.room(3 * s.length + 1);
        this.len += this.buf.write(s, this.len, "utf8");
        this.buf[this.len++] = 0x0a;
    }

    /**
     * `s` written as it is, when it is printable ASCII other than `"`, `\` and `#` (what a JSON string and the output's
     * escaping leave as it is), and true; else nothing is written, and false.
     */
    plain(s: string): boolean {
        return this.ascii(s, PLAIN, OTHER_THAN_PLAIN);
    }

    /**
     * JSON text written as it is when it is ASCII other than DEL and `#` (what `encodeJsonOutput` leaves as it is), and true;
     * else nothing is written, and false.
     */
    json(s: string): boolean {
        return this.ascii(s, JSON_TEXT, OTHER_THAN_JSON_TEXT);
    }

    /**
     * `s` written as it is when every character is ASCII and `allowed` (`other` finds one that is not), and true; else
     * nothing, and false. A long string is tested by the regular expression and copied natively: 4 times as fast as
     * the loop from 200 characters on, slower below about 60 (measured).
     */
    private ascii(s: string, allowed: Uint8Array, other: RegExp): boolean {
        const n = s.length;
        this.room(n);
        if (n >= LONG) {
            if (other.test(s)) return false;
            this.len += this.buf.write(s, this.len, n, "latin1");
            return true;
        }
        const buf = this.buf;
        const at = this.len;
        for (let i = 0; i < n; i++) {
            const c = s.charCodeAt(i);
            if (c >= 0x80 || allowed[c] === 0) return false;
            buf[at + i] = c;
        }
        this.len += n;
        return true;
    }

    /**
     * What was written: a view of the sink's own buffer, not copied (transferable: nothing else is in that buffer).
     * The sink is not written to after.
     */
    take(): Uint8Array<ArrayBuffer> {
        return this.buf.subarray(0, this.len);
    }
}

const UTF8_OUT = new TextEncoder();

/**
 * ASCII a JSON string holds as it is and output escaping leaves: printable, but for `"` and `\`, and `#` (output
 * escaping spells the `[` of `##[` otherwise: a text with `#` takes that way).
 */
const PLAIN = Uint8Array.from({ length: 0x80 }, (_, c) => (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c && c !== 0x23 ? 1 : 0));
/** ASCII that output escaping leaves in JSON text: all but DEL and `#` (as above). */
const JSON_TEXT = Uint8Array.from({ length: 0x80 }, (_, c) => (c !== 0x7f && c !== 0x23 ? 1 : 0));

/** From this length on, {@link ByteSink} tests a string with a regular expression and copies it natively. */
const LONG = 64;

/** A regular expression that finds a character the `allowed` table does not allow (any above ASCII). */
function otherThan(allowed: Uint8Array): RegExp {
    const u = (c: number): string => `\\u${c.toString(16).padStart(4, "0")}`;
    // The allowed characters as ranges: a class of a few ranges is faster to test than one of a hundred characters.
    let set = "";
    for (let c = 0; c < 0x80; c++) {
        if (allowed[c] !== 1) continue;
        let end = c;
        while (end + 1 < 0x80 && allowed[end + 1] === 1) end++;
        set += end > c ? `${u(c)}-${u(end)}` : u(c);
        c = end;
    }
    return new RegExp(`[^${set}]`);
}
const OTHER_THAN_PLAIN = otherThan(PLAIN);
const OTHER_THAN_JSON_TEXT = otherThan(JSON_TEXT);

/**
 * An item with bytes of its own: written into a {@link ByteSink}, exactly the bytes `escape(renderItems([item],
 * depth))` gives (`escape` the output's JSON escaping and UTF-8 encoding: `encodeJsonOutput`).
 */
export interface WrittenItem {
    writeTo(into: ByteSink): void;
}

/** Finds an item's own bytes at `depth` ({@link WrittenItem}); undefined: the item is stringified. */
export type ItemWriter = (item: unknown, depth: number) => WrittenItem | undefined;

/**
 * `escape(renderItems(items, depth))` as bytes, each item with bytes of its own ({@link ItemWriter}) written as
 * they are, runs of the others stringified together and escaped.
 */
export function renderItemBytes(items: readonly unknown[], depth: number, written: ItemWriter, escape: (s: string) => Uint8Array): Uint8Array<ArrayBuffer> {
    // Sized as the last batch of this many items came out (a block of a stack export's results is about 1.5 MB).
    const sink = new ByteSink(Math.ceil((lastBytesPerItem * items.length) / 0.9));
    let from = 0;
    const run = (to: number): void => {
        if (to > from) {
            if (from > 0) sink.bytes(SEPARATOR);
            sink.bytes(escape(renderItems(items.slice(from, to), depth)));
        }
    };
    for (let i = 0; i < items.length; i++) {
        const own = written(items[i], depth);
        if (own === undefined) continue;
        run(i);
        if (i > 0) sink.bytes(SEPARATOR);
        own.writeTo(sink);
        from = i + 1;
    }
    run(items.length);
    const out = sink.take();
    if (items.length > 0) lastBytesPerItem = out.length / items.length;
    return out;
}

/** What the last {@link renderItemBytes} wrote per item. */
let lastBytesPerItem = 1024;

const SEPARATOR = UTF8_OUT.encode(",\n");

/**
 * Items of a {@link ChunkedArray} rendered ahead for an array `depth` deep, escaped for the output and encoded as
 * UTF-8 ({@link renderItemBytes}; by a worker thread, which transfers bytes, not objects or text, or by this one ahead
 * of their turn): {@link jsonChunks} writes the bytes where the items stand. No bytes: no items.
 */
export class RenderedItems {
    constructor(
        readonly bytes: Uint8Array,
        readonly depth: number,
    ) {}
}

/** How many rendered items one chunk of a text format holds. */
const TEXT_BATCH = 64;

/** What `items.map(render).join(separator)` makes, a batch of items per chunk. */
export function* batched<T>(items: readonly T[], render: (item: T) => string, separator: string): Generator<string> {
    for (let i = 0; i < items.length; i += TEXT_BATCH) {
        yield `${i > 0 ? separator : ""}${items.slice(i, i + TEXT_BATCH).map(render).join(separator)}`;
    }
}
