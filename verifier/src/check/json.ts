/**
 * The one JSON reader of the CLI (check inputs, config files, report result files; report source positions read
 * text this reader accepts).
 *
 * - Syntax is checked by `jsonc-parser` (a maintained parser that keeps offsets) with its extensions switched off:
 *   comments and trailing commas are errors, so this is strict RFC 8259 JSON; `JSON.parse` builds the value (its
 *   `__proto__` handling is safe). A problem says where, quoting at most one character of the input.
 * - Nesting deeper than {@link MAX_JSON_DEPTH} is refused before any value is handed out: `JSON.parse` (iterative in
 *   V8) and one iterative walk measure it, and one iterative scan of the text locates it; so no walker over the
 *   value, recursive or not, can exhaust the stack.
 * - An object that holds the same key twice is remembered ({@link duplicateKeysOf}): JSON keeps the last value, and
 *   what IAM or Pulumi would make of it is not for this tool to guess, so the check reports it as an error.
 */
import type { JSONPath, ParseErrorCode } from "jsonc-parser";
import { ownValue } from "oidc-guard-policypack/analysis";
import { jsoncParser } from "../lazy.js";

/** Where and why a text is not valid JSON. `line` and `column` are 1-based. */
export interface JsonSyntaxProblem {
    message: string;
    line: number;
    column: number;
}

/** A key that occurs more than once in one object. */
export interface DuplicateKey {
    key: string;
    /** Where the object is inside the parsed document (`Statement[0].Condition`; "" for the top level). */
    path: string;
    /** 1-based position of the second occurrence. */
    line: number;
    column: number;
}

/** The outcome of {@link parseJson}: a value, or a problem that quotes at most one character of the input. */
export type JsonParseResult =
    | { ok: true; value: unknown; duplicates: DuplicateKey[] }
    | { ok: false; problem: JsonSyntaxProblem };

/** Deepest nesting of arrays and objects accepted (AWS policies nest about 6 levels, stack exports about 20). */
export const MAX_JSON_DEPTH = 512;

/** Marks a failed `JSON.parse` (any JSON value, `null` included, can be a result). */
const FAILED: unique symbol = Symbol("not JSON");

const PARSE_OPTIONS = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false } as const;

/** Objects of the last parses that had duplicate keys, keyed by the object itself (so the value carries them). */
const duplicatesByObject = new WeakMap<object, DuplicateKey[]>();

/** The duplicate keys `parseJson` found directly in `obj` (not in its children). */
export function duplicateKeysOf(obj: object): readonly DuplicateKey[] {
    return duplicatesByObject.get(obj) ?? [];
}

/**
 * Gives `copy` the duplicate keys `parseJson` found in `original`, for a copy made of a parsed object (a
 * CloudFormation trust policy with its intrinsics resolved): the copy is ambiguous where the original was.
 */
export function keepDuplicateKeys(original: object, copy: object): void {
    const list = duplicatesByObject.get(original);
    if (list !== undefined) duplicatesByObject.set(copy, list);
}

/**
 * Every duplicate key inside `value` (a value `parseJson` returned, or part of one), in document order. Iterative:
 * the depth of `value` does not matter.
 */
export function findDuplicateKeys(value: unknown): DuplicateKey[] {
    const out: DuplicateKey[] = [];
    const stack: unknown[] = [value];
    while (stack.length > 0) {
        const v = stack.pop();
        if (v === null || typeof v !== "object") continue;
        for (const d of duplicateKeysOf(v)) out.push(d);
        const children = Array.isArray(v) ? (v as unknown[]) : Object.values(v as Record<string, unknown>);
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
    return out;
}

/** Formats a problem as `<message> at line L column C`. */
export function describeJsonProblem(p: JsonSyntaxProblem): string {
    return `${p.message} at line ${p.line} column ${p.column}`;
}

/** Formats a duplicate key for a finding. */
export function describeDuplicateKey(d: DuplicateKey): string {
    return `key ${JSON.stringify(d.key)} appears twice in the same object${d.path === "" ? "" : ` (${d.path})`} at line ${d.line} column ${d.column}`;
}

/**
 * 1-based lines and columns (UTF-16 code units) of offsets into one text: the line starts are found once, each
 * offset by binary search (a text can ask for 200,000 positions, one per repeated key).
 */
export class LineIndex {
    private readonly starts: number[] = [0];
    constructor(text: string) {
        for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
    }
    at(offset: number): { line: number; column: number } {
        let lo = 0;
        let hi = this.starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (this.starts[mid]! <= offset) lo = mid;
            else hi = mid - 1;
        }
        return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
    }
}

/** Whether a UTF-16 code unit is JSON whitespace. */
export function isJsonSpace(c: number): boolean {
    return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The offset of the quote that closes the JSON string opened at `open`, or -1: the next one no odd run of backslashes escapes. */
export function closingQuote(text: string, open: number): number {
    let end = open;
    for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return -1;
        if (unescapedQuote(text, end)) return end;
    }
}

/** Whether the quote at `at` is unescaped: an even run of backslashes (none included) stands before it. */
function unescapedQuote(text: string, at: number): boolean {
    let b = at - 1;
    while (b >= 0 && text.charCodeAt(b) === 0x5c) b--;
    return (at - 1 - b) % 2 === 0;
}

/** Shows one character of the input: enough to find it, too little to leak a value. */
function describeChar(ch: string | undefined): string {
    if (ch === undefined) return "end of input";
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    return `token ${ch}`;
}

function message(code: ParseErrorCode, text: string, offset: number): string {
    const at = describeChar(text[offset]);
    // The names, not the values: ParseErrorCode is a const enum, which isolatedModules cannot inline.
    switch (jsoncParser().printParseErrorCode(code)) {
        case "InvalidSymbol":
            return `Unexpected ${at}`;
        case "InvalidNumberFormat":
            return `Bad number (${at})`;
        case "PropertyNameExpected":
            return `Expected a property name but found ${at}`;
        case "ValueExpected":
            return text.trim() === "" ? "Empty input: expected a JSON value" : `Expected a value but found ${at}`;
        case "ColonExpected":
            return `Expected ':' but found ${at}`;
        case "CommaExpected":
            return `Expected ',' but found ${at}`;
        case "CloseBraceExpected":
            return `Expected ',' or '}' but found ${at}`;
        case "CloseBracketExpected":
            return `Expected ',' or ']' but found ${at}`;
        case "EndOfFileExpected":
            return `Unexpected ${at} after the JSON value`;
        case "InvalidCommentToken":
        case "UnexpectedEndOfComment":
            return "Comments are not allowed in JSON";
        case "UnexpectedEndOfString":
            return "Unterminated string";
        case "UnexpectedEndOfNumber":
            return "Unterminated number";
        case "InvalidUnicode":
            return "Bad \\u escape in string";
        case "InvalidEscapeCharacter":
            return "Bad escape in string";
        case "InvalidCharacter":
            return `Unexpected ${at} in string`;
        default:
            return "not valid JSON";
    }
}

/** `Statement[0].Condition` for a jsonc-parser path. */
export function formatJsonPath(path: JSONPath): string {
    let out = "";
    for (const seg of path) {
        if (typeof seg === "number") out += `[${seg}]`;
        else out += /^[A-Za-z_$][\w$]*$/.test(seg) ? `${out === "" ? "" : "."}${seg}` : `[${JSON.stringify(seg)}]`;
    }
    return out;
}

/** The value at `path` inside `root` (a value from JSON.parse), or undefined. */
function valueAt(root: unknown, path: JSONPath): unknown {
    let v = root;
    for (const seg of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = ownValue(v, seg);
    }
    return v;
}

/**
 * Checks `text` as strict JSON: the first syntax problem (with its position), or null plus the duplicate keys and
 * the paths of their objects. The text must already have passed the depth check of {@link deepestAt}.
 */
function scan(text: string): { problem: JsonSyntaxProblem } | { duplicates: { key: string; offset: number; objectPath: JSONPath }[] } {
    let first: { code: ParseErrorCode; offset: number } | undefined;
    const keys: Set<string>[] = [];
    const duplicates: { key: string; offset: number; objectPath: JSONPath }[] = [];
    const { visit, printParseErrorCode } = jsoncParser();
    visit(
        text,
        {
            onObjectBegin: () => {
                keys.push(new Set());
            },
            onObjectEnd: () => {
                keys.pop();
            },
            onObjectProperty: (property, offset, _length, _line, _ch, pathSupplier) => {
                const seen = keys[keys.length - 1];
                if (seen === undefined) return;
                if (seen.has(property)) duplicates.push({ key: property, offset, objectPath: pathSupplier() });
                else seen.add(property);
            },
            onError: (code, offset) => {
                if (first !== undefined) return;
                // jsonc-parser reports a control character at the start of its string: point at the character.
                let at = offset;
                if (printParseErrorCode(code) === "InvalidCharacter") {
                    while (at < text.length && text.charCodeAt(at) >= 0x20) at++;
                }
                first = { code, offset: at < text.length ? at : offset };
            },
        },
        PARSE_OPTIONS,
    );
    if (first !== undefined) {
        const { line, column } = new LineIndex(text).at(first.offset);
        return { problem: { message: message(first.code, text, first.offset), line, column } };
    }
    return { duplicates };
}

/**
 * One pass over JSON text that skips strings: where nesting first goes deeper than `max`, or -1. It does not judge
 * the syntax; it locates the depth problem of a text the fast path of {@link parseJson} did not take.
 */
function deepestAt(text: string, max: number): number {
    let depth = 0;
    const n = text.length;
    let i = 0;
    while (i < n) {
        // Structure up to the next string, character by character (it is short: punctuation, numbers, spaces).
        let q = text.indexOf('"', i);
        if (q < 0) q = n;
        for (; i < q; i++) {
            const c = text.charCodeAt(i);
            if (c === 0x7b || c === 0x5b) {
                if (++depth > max) return i;
            } else if (c === 0x7d || c === 0x5d) depth--;
        }
        if (q >= n) break;
        const end = closingQuote(text, q);
        if (end < 0) return -1;
        i = end + 1;
    }
    return -1;
}

/**
 * How many own keys the objects inside `value` hold, and whether arrays and objects nest deeper than `max` in it
 * (iterative; the count stops there).
 */
function memberCount(value: unknown, max: number): { members: number; deep: boolean } {
    if (value === null || typeof value !== "object") return { members: 0, deep: false };
    let count = 0;
    // Each object or array pushed with its depth after it: one stack, not two (measured: 35 ms against 66 ms over a
    // 100,000-role export, where this walk runs once, before any role is checked).
    const stack: unknown[] = [value, 1];
    while (stack.length > 0) {
        const depth = stack.pop() as number;
        const v = stack.pop() as object;
        if (depth > max) return { members: count, deep: true };
        if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++) {
                const e: unknown = v[i];
                if (e !== null && typeof e === "object") stack.push(e, depth + 1);
            }
            continue;
        }
        for (const k in v) {
            count++;
            const e = (v as Record<string, unknown>)[k];
            if (e !== null && typeof e === "object") stack.push(e, depth + 1);
        }
    }
    return { members: count, deep: false };
}

/**
 * In text `JSON.parse` accepted: how many unescaped quotes are followed (after JSON whitespace) by `:`. Every
 * member's key ends in such a quote, and any other such quote opens a string that starts with `:`, so this is at
 * least the number of members the text writes: equal to the parsed value's key count only when no object repeats
 * a key. Each `:` is found with `indexOf` and the quote looked for behind it, instead of stopping at every quote:
 * a stack export's policy texts are strings full of `\"`, and an indented file's indentation is skipped by
 * `indexOf`, not read character by character.
 */
export function memberMarks(text: string): number {
    let count = 0;
    for (let i = text.indexOf(":"); i >= 0; i = text.indexOf(":", i + 1)) {
        let q = i - 1;
        while (q >= 0 && isJsonSpace(text.charCodeAt(q))) q--;
        if (q >= 0 && text.charCodeAt(q) === 0x22 && unescapedQuote(text, q)) count++;
    }
    return count;
}

/**
 * {@link memberMarks} of the text that UTF-8 `bytes` encode, counted over the bytes (by another thread, while this
 * one decodes and parses them). The count is the same: every character it looks at (`:`, `"`, backslash, JSON
 * whitespace) is one ASCII byte, and no byte of a longer character's encoding (nor of a byte order mark) is ASCII.
 * A loop over the bytes, not `indexOf`: a typed array's `indexOf` for each `:` took twice as long.
 */
export function memberMarksOfBytes(bytes: Uint8Array): number {
    let count = 0;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
        if (bytes[i] !== 0x3a) continue;
        let q = i - 1;
        while (q >= 0 && isJsonSpace(bytes[q]!)) q--;
        if (q < 0 || bytes[q] !== 0x22) continue;
        let b = q - 1;
        while (b >= 0 && bytes[b] === 0x5c) b--;
        if ((q - 1 - b) % 2 === 0) count++;
    }
    return count;
}

/**
 * Parses `text` (a UTF-8 BOM is ignored) as strict JSON. On failure, says where the text stops being JSON.
 *
 * Valid JSON without duplicate keys, nested at most {@link MAX_JSON_DEPTH} deep (nearly every input), takes the
 * fast path: `JSON.parse` (iterative in V8: any depth parses), which accepts exactly RFC 8259 JSON, builds the
 * value; one walk of it counts its keys and measures its depth; and the text's member marks ({@link memberMarks})
 * equal the key count (a key written twice in one object leaves one key). Otherwise the text is scanned for its
 * depth first, and the strict scanner runs to locate the problem or the duplicates. `counted` gives the member marks
 * when they were counted elsewhere (another thread, over the text's bytes: {@link memberMarksOfBytes}); when it is
 * absent or gives undefined, they are counted here.
 */
export function parseJson(text: string, counted?: () => number | undefined): JsonParseResult {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    let fast: unknown;
    try {
        fast = JSON.parse(body) as unknown;
    } catch {
        fast = FAILED;
    }
    if (fast !== FAILED) {
        const { members, deep } = memberCount(fast, MAX_JSON_DEPTH);
        if (!deep && members === (counted?.() ?? memberMarks(body))) return { ok: true, value: fast, duplicates: [] };
    }
    const deepAt = deepestAt(body, MAX_JSON_DEPTH);
    if (deepAt >= 0) {
        const { line, column } = new LineIndex(body).at(deepAt);
        return { ok: false, problem: { message: `nested deeper than ${MAX_JSON_DEPTH} levels`, line, column } };
    }
    const scanned = scan(body);
    if ("problem" in scanned) return { ok: false, problem: scanned.problem };
    // The strict reader accepted the text: `JSON.parse` did too (the value the fast path read), unless the two
    // parsers disagree, which is said without guessing a position (and without V8's quote of the input).
    if (fast === FAILED) return { ok: false, problem: { message: "not valid JSON", line: 1, column: 1 } };
    const value = fast;
    const duplicates: DuplicateKey[] = [];
    // Line starts found once: a hostile text can repeat a key 200,000 times, and counting lines from the start for
    // each (or copying an object's list for each) was quadratic.
    const lines = new LineIndex(body);
    for (const d of scanned.duplicates) {
        const { line, column } = lines.at(d.offset);
        const dup: DuplicateKey = { key: d.key, path: formatJsonPath(d.objectPath), line, column };
        duplicates.push(dup);
        const obj = valueAt(value, d.objectPath);
        if (obj === null || typeof obj !== "object") continue;
        const list = duplicatesByObject.get(obj);
        if (list === undefined) duplicatesByObject.set(obj, [dup]);
        else list.push(dup);
    }
    return { ok: true, value, duplicates };
}

/** Where a problem is, for callers that only need to know it is not valid JSON (kept for the tests' wording). */
export function locateJsonError(text: string): JsonSyntaxProblem {
    const r = parseJson(text);
    return r.ok ? { message: "not valid JSON", line: 1, column: 1 } : r.problem;
}


