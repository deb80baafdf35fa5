/**
 * Source positions for findings: given the text of the file a check read, find the line of the offending statement
 * or condition key so SARIF (and the other formats) can point at it.
 *
 * Soundness over reach: a line is claimed only when the way to it is unambiguous (the JSON path exists, or the
 * searched text occurs exactly once). Anything else falls back to the resource's line (stack inputs) or to line 1,
 * with `exact: false`.
 */
import type { FindingLocation } from "oidc-guard-policypack/analysis";
import type { Node as YamlNode } from "yaml";
import { yaml } from "../lazy.js";
import { LineIndex, MAX_JSON_DEPTH as MAX_DEPTH, closingQuote, isJsonSpace } from "../check/json.js";

/** A 1-based line and column (columns in UTF-16 code units, SARIF's default `columnKind`). */
export interface SourcePosition {
    line: number;
    column: number;
    /** True when the position is that of the statement or condition key itself, not a fallback. */
    exact: boolean;
}

/** What to look for: the resource (stack inputs) and the finding's location inside its trust policy. */
export interface LocateQuery {
    urn?: string;
    location?: FindingLocation;
    /**
     * The line a resource is declared on and its name (CloudFormation logical id): the resource is the object under
     * the key `name` on that line. Used instead of `urn`.
     */
    declared?: { line: number; name: string };
}

type JsonNode =
    | { kind: "object"; start: number; end: number; entries: { key: string; keyStart: number; value: JsonNode }[] }
    | { kind: "array"; start: number; end: number; items: JsonNode[] }
    | { kind: "string"; start: number; end: number; value: string }
    | { kind: "scalar"; start: number; end: number };

/**
 * The JSON of `text` with the offset of every value and key, or null when it is not strict JSON (or nests deeper
 * than the reader allows). `JSON.parse` (strict RFC 8259, as the CLI's JSON reader in check/json.ts) decides
 * whether it is JSON; one scan of the valid text then records where each value is ({@link PositionTree}).
 */
export function parseJsonWithPositions(text: string): JsonNode | null {
    const tree = PositionTree.ofJson(text);
    return tree === null ? null : tree.node(0);
}

const OBJECT = 0;
const ARRAY = 1;
const STRING = 2;
const SCALAR = 3;
/** A string with an escape in it (its value is not its slice): a kind of its own in the columns. */
const ESCAPED = 4;
const KINDS = ["object", "array", "string", "scalar", "string"] as const;

/**
 * The positions of every value of a JSON (or YAML) document as columns, one row per value in document order: its
 * kind, where it starts and ends, where the key that names it starts (a property's value; -1 otherwise) and the row
 * after its last descendant, so a node's children are `i + 1`, then each `next` in turn. Keys and strings are read
 * from the text when asked for. A stack export of 100,000 roles is 145 MB and 2.9 million values: as objects (a node
 * per value, an entry per property) they took 2.3 s and 550 MB of heap, which the garbage collector then walked
 * again and again while the reports were made; as columns they are five typed arrays outside the heap.
 */
export class PositionTree {
    private kinds: Uint8Array;
    private starts: Int32Array;
    private ends: Int32Array;
    private keys: Int32Array;
    private nexts: Int32Array;
    private rows = 0;
    /** Keys and strings of a tree that was not read from JSON text (YAML), by row. */
    private readonly given?: { keys: (string | undefined)[]; strings: (string | undefined)[] };

    private constructor(
        readonly text: string,
        capacity: number,
        given?: { keys: (string | undefined)[]; strings: (string | undefined)[] },
    ) {
        const n = Math.max(16, capacity);
        this.kinds = new Uint8Array(n);
        this.starts = new Int32Array(n);
        this.ends = new Int32Array(n);
        this.keys = new Int32Array(n);
        this.nexts = new Int32Array(n);
        if (given) this.given = given;
    }

    /** How many values the tree holds. */
    get size(): number {
        return this.rows;
    }

    /**
     * The tree of strict JSON `text`, or null when it is not (or nests deeper than MAX_DEPTH). `valid`: the caller
     * has already parsed `text` with `JSON.parse`, so it is not parsed again.
     */
    static ofJson(text: string, valid = false): PositionTree | null {
        // The scan first: it stops at the reader's depth limit, so a hostile nesting costs no full parse. Its tree
        // counts only when `JSON.parse` accepts the text.
        let tree: PositionTree | null;
        try {
            tree = PositionTree.scan(text);
        } catch {
            return null;
        }
        if (tree === null || tree.size === 0) return null;
        if (valid) return tree;
        try {
            JSON.parse(text);
        } catch {
            return null;
        }
        return tree;
    }

    /**
     * Records where each value of `text` is. Meaningful only for valid JSON (the caller checks that); null when it
     * nests deeper than the reader's limit or a string does not end. Iterative (an explicit stack of open containers).
     */
    private static scan(text: string): PositionTree | null {
        const n = text.length;
        // Room for a value every 32 characters (a stack export has one every 50); the columns double when that is too few.
        const tree = new PositionTree(text, n >> 5);
        const open: number[] = [];
        // Inside an object: where the key read last starts, waiting for its value.
        let key = -1;
        // The first backslash at or after the string being read (n when none is left).
        let backslash = -1;
        let i = 0;
        while (i < n) {
            const c = text.charCodeAt(i);
            if (isJsonSpace(c) || c === 0x2c || c === 0x3a) {
                i++;
            } else if (c === 0x7b || c === 0x5b) {
                if (open.length >= MAX_DEPTH) return null;
                open.push(tree.add(c === 0x7b ? OBJECT : ARRAY, i, n, key));
                key = -1;
                i++;
            } else if (c === 0x7d || c === 0x5d) {
                const node = open.pop();
                if (node !== undefined) tree.close(node, i + 1);
                i++;
            } else if (c === 0x22) {
                const end = closingQuote(text, i);
                if (end < 0) return null;
                const top = open.length > 0 ? open[open.length - 1]! : -1;
                if (top >= 0 && tree.kinds[top] === OBJECT && key < 0) {
                    key = i;
                } else {
                    if (backslash < i) {
                        const next = text.indexOf("\\", i);
                        backslash = next < 0 ? n : next;
                    }
                    tree.add(backslash < end ? ESCAPED : STRING, i, end + 1, key);
                    key = -1;
                }
                i = end + 1;
            } else {
                // A number, true, false or null: up to the next separator, bracket or space.
                let j = i + 1;
                while (j < n) {
                    const d = text.charCodeAt(j);
                    if (isJsonSpace(d) || d === 0x2c || d === 0x5d || d === 0x7d) break;
                    j++;
                }
                tree.add(SCALAR, i, j, key);
                key = -1;
                i = j;
            }
        }
        while (open.length > 0) tree.close(open.pop()!, n);
        return tree;
    }

    /** The same tree as columns (a YAML document's: its keys and strings are kept, not read from the text). */
    static ofNodes(text: string, root: JsonNode): PositionTree {
        const given = { keys: [] as (string | undefined)[], strings: [] as (string | undefined)[] };
        const tree = new PositionTree(text, 64, given);
        const add = (node: JsonNode, key: { key: string; keyStart: number } | undefined): void => {
            const row = tree.add(KINDS.indexOf(node.kind), node.start, node.end, key?.keyStart ?? -1);
            given.keys[row] = key?.key;
            if (node.kind === "string") given.strings[row] = node.value;
            if (node.kind === "object") for (const e of node.entries) add(e.value, e);
            else if (node.kind === "array") for (const item of node.items) add(item, undefined);
            if (node.kind === "object" || node.kind === "array") tree.close(row, node.end);
        };
        add(root, undefined);
        return tree;
    }

    private add(kind: number, start: number, end: number, key: number): number {
        if (this.rows === this.kinds.length) this.grow();
        const row = this.rows++;
        this.kinds[row] = kind;
        this.starts[row] = start;
        this.ends[row] = end;
        this.keys[row] = key;
        this.nexts[row] = row + 1;
        return row;
    }

    private close(row: number, end: number): void {
        this.ends[row] = end;
        this.nexts[row] = this.rows;
    }

    private grow(): void {
        const n = this.kinds.length * 2;
        const widen = <T extends Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
            const b = make(n);
            b.set(a);
            return b;
        };
        this.kinds = widen(this.kinds, (k) => new Uint8Array(k));
        this.starts = widen(this.starts, (k) => new Int32Array(k));
        this.ends = widen(this.ends, (k) => new Int32Array(k));
        this.keys = widen(this.keys, (k) => new Int32Array(k));
        this.nexts = widen(this.nexts, (k) => new Int32Array(k));
    }

    kind(row: number): JsonNode["kind"] {
        return KINDS[this.kinds[row]!]!;
    }

    /** Where the key that names `row` starts (its opening quote), or -1 when `row` is not a property's value. */
    keyStart(row: number): number {
        return this.keys[row]!;
    }

    /** The key that names `row`, or undefined when it is not a property's value. */
    key(row: number): string | undefined {
        if (this.given) return this.given.keys[row];
        const at = this.keys[row]!;
        if (at < 0) return undefined;
        const end = closingQuote(this.text, at) + 1;
        // Within the key only: a search from its start to the next backslash could read the rest of a 145 MB file.
        return this.literal(at, end, this.text.slice(at + 1, end - 1).includes("\\"));
    }

    /** The value of string `row`. */
    string(row: number): string {
        if (this.given) return this.given.strings[row] ?? "";
        return this.literal(this.starts[row]!, this.ends[row]!, this.kinds[row] === ESCAPED);
    }

    /** The value of the string literal `text[start, end)`, quotes included: its inside, or decoded when it holds an escape. */
    private literal(start: number, end: number, escaped: boolean): string {
        return escaped ? (JSON.parse(this.text.slice(start, end)) as string) : this.text.slice(start + 1, end - 1);
    }

    /** The rows of `row`'s children, in order. */
    *children(row: number): Generator<number> {
        const end = this.nexts[row]!;
        for (let c = row + 1; c < end; c = this.nexts[c]!) yield c;
    }

    /** `row` and its descendants as objects (a small part of a large file: one resource). */
    node(row: number): JsonNode {
        const start = this.starts[row]!;
        const end = this.ends[row]!;
        switch (this.kinds[row]) {
            case OBJECT: {
                const entries: { key: string; keyStart: number; value: JsonNode }[] = [];
                for (const c of this.children(row)) {
                    const key = this.key(c);
                    if (key !== undefined) entries.push({ key, keyStart: this.keys[c]!, value: this.node(c) });
                }
                return { kind: "object", start, end, entries };
            }
            case ARRAY:
                return { kind: "array", start, end, items: [...this.children(row)].map((c) => this.node(c)) };
            case STRING:
            case ESCAPED:
                return { kind: "string", start, end, value: this.string(row) };
            default:
                return { kind: "scalar", start, end };
        }
    }

    /**
     * Every string value mapped to the smallest object that has a property with that value (its row) and the offset
     * of that property; the first such object in document order wins, children before their parent (the order the
     * objects close in: by where they end). `only`: index just these values. One pass over the rows in order.
     */
    indexStringProperties(only?: ReadonlySet<string>): Map<string, { row: number; at: number }> {
        const index = new Map<string, { row: number; at: number }>();
        // A string without an escape is its slice: only those of a length and a first character asked for are read.
        const lengths = only === undefined ? undefined : new Set([...only].map((s) => s.length));
        const firsts = only === undefined ? undefined : new Set([...only].map((s) => s.charCodeAt(0)));
        const { kinds, starts, ends, keys, nexts, text } = this;
        // The containers the row is in, innermost last.
        const open: number[] = [];
        for (let row = 0; row < this.rows; row++) {
            while (open.length > 0 && nexts[open[open.length - 1]!]! <= row) open.pop();
            const kind = kinds[row];
            if (kind === OBJECT || kind === ARRAY) {
                open.push(row);
                continue;
            }
            if ((kind !== STRING && kind !== ESCAPED) || keys[row]! < 0) continue;
            if (kind === STRING && lengths !== undefined) {
                const length = ends[row]! - starts[row]! - 2;
                if (!lengths.has(length) || (length > 0 && !firsts!.has(text.charCodeAt(starts[row]! + 1)))) continue;
            }
            const value = this.string(row);
            if (only !== undefined && !only.has(value)) continue;
            const owner = open[open.length - 1]!;
            const seen = index.get(value);
            if (seen === undefined || ends[seen.row]! > ends[owner]!) index.set(value, { row: owner, at: keys[row]! });
        }
        return index;
    }

    /** The first property (in document order) named `name` whose key is on `line`: its value's row. */
    propertyOnLine(name: string, line: number, lines: LineIndex): number | undefined {
        for (let row = 0; row < this.rows; row++) {
            const at = this.keys[row]!;
            if (at >= 0 && this.key(row) === name && lines.at(at).line === line) return row;
        }
        return undefined;
    }
}

/**
 * A YAML document (a CloudFormation template) as the same position tree as JSON. Tags (`!Ref`, `!Sub`, …) are kept
 * as the scalar or collection they tag: only positions matter here. Null when the text is not a YAML mapping.
 */
export function parseYamlWithPositions(text: string): JsonNode | null {
    let doc;
    try {
        doc = yaml().parseDocument(text, { prettyErrors: false });
    } catch {
        return null;
    }
    if (doc.errors.length > 0 || !yaml().isMap(doc.contents)) return null;
    const convert = (node: unknown, depth: number): JsonNode => {
        const n = node as YamlNode | null;
        const range = n?.range ?? [0, 0, 0];
        if (depth > MAX_DEPTH) return { kind: "scalar", start: range[0], end: range[1] };
        if (yaml().isMap(n)) {
            const entries: { key: string; keyStart: number; value: JsonNode }[] = [];
            for (const pair of n.items) {
                const key = pair.key as YamlNode | null;
                if (!yaml().isScalar(key)) continue;
                entries.push({ key: String(key.value), keyStart: key.range?.[0] ?? range[0], value: convert(pair.value, depth + 1) });
            }
            return { kind: "object", start: range[0], end: range[1], entries };
        }
        if (yaml().isSeq(n)) return { kind: "array", start: range[0], end: range[1], items: n.items.map((i) => convert(i, depth + 1)) };
        if (yaml().isScalar(n) && typeof n.value === "string") return { kind: "string", start: range[0], end: range[1], value: n.value };
        return { kind: "scalar", start: range[0], end: range[1] };
    };
    return convert(doc.contents, 0);
}

/** The position of `offset` in the text `lines` indexes. */
function positionAt(lines: LineIndex, offset: number, exact: boolean): SourcePosition {
    return { ...lines.at(offset), exact };
}

function entry(node: JsonNode, key: string): { keyStart: number; value: JsonNode } | undefined {
    if (node.kind !== "object") return undefined;
    return node.entries.find((e) => e.key === key) ?? node.entries.find((e) => e.key.toLowerCase() === key.toLowerCase());
}

/** A trust policy document found in the file: an object with `Statement`, or a JSON string holding one. */
interface PolicyCandidate {
    doc: JsonNode;
    /** Set when the document is embedded as a JSON string: positions inside it are reported at the string. */
    embedded?: { at: number; text: string };
}

function findPolicies(node: JsonNode, out: PolicyCandidate[], limit: number): void {
    if (out.length > limit) return;
    if (node.kind === "object") {
        if (node.entries.some((e) => e.key === "Statement")) {
            out.push({ doc: node });
            return;
        }
        for (const e of node.entries) findPolicies(e.value, out, limit);
    } else if (node.kind === "array") {
        for (const item of node.items) findPolicies(item, out, limit);
    } else if (node.kind === "string" && node.value.includes('"Statement"')) {
        const inner = parseJsonWithPositions(node.value);
        if (inner?.kind === "object" && inner.entries.some((e) => e.key === "Statement")) {
            out.push({ doc: inner, embedded: { at: node.start, text: node.value } });
        }
    }
}

/** The statement node at `index` (`Statement` may be a single object, which is index 0). */
function statementNode(doc: JsonNode, index: number): JsonNode | undefined {
    const st = entry(doc, "Statement")?.value;
    if (!st) return undefined;
    if (st.kind === "array") return st.items[index];
    return index === 0 ? st : undefined;
}

/** Offset of the deepest part of `location` that exists in `doc` (statement, operator, condition key). */
function offsetIn(doc: JsonNode, location: FindingLocation): { offset: number; exact: boolean } {
    if (location.statementIndex === undefined) return { offset: doc.start, exact: false };
    const st = statementNode(doc, location.statementIndex);
    if (!st) return { offset: doc.start, exact: false };
    if (location.operator === undefined && location.conditionKey === undefined) return { offset: st.start, exact: true };
    const cond = entry(st, "Condition");
    if (!cond || cond.value.kind !== "object") return { offset: st.start, exact: false };
    let ops = cond.value.entries;
    if (location.operator !== undefined) {
        const op = entry(cond.value, location.operator);
        if (!op) return { offset: cond.keyStart, exact: false };
        if (location.conditionKey === undefined) return { offset: op.keyStart, exact: true };
        ops = [{ key: location.operator, keyStart: op.keyStart, value: op.value }];
    }
    const key = location.conditionKey ?? "";
    const hits = ops.map((o) => entry(o.value, key)).filter((e) => e !== undefined);
    if (hits.length === 1 && hits[0]) return { offset: hits[0].keyStart, exact: true };
    return { offset: ops.length === 1 && ops[0] ? ops[0].keyStart : cond.keyStart, exact: false };
}

/** Line of the only occurrence of `needle` in `text`, or undefined when it occurs zero or several times. */
function uniqueLine(text: string, needle: string, lines: LineIndex): SourcePosition | undefined {
    if (needle === "") return undefined;
    const hay = text.toLowerCase();
    const n = needle.toLowerCase();
    const first = hay.indexOf(n);
    if (first < 0 || hay.indexOf(n, first + 1) >= 0) return undefined;
    return positionAt(lines, first, false);
}

/** A parsed source file, reusable for many findings. */
export class SourceFile {
    private readonly tree: PositionTree | null;
    private readonly lines: LineIndex;
    private resources: Map<string, { row: number; at: number }> | undefined;
    /** Whether `resources` indexes every string, not only the URNs the file was told of. */
    private indexedAll = false;
    /** The scope asked about last and its trust policy: a result's findings ask one after the other. */
    private last: { row: number; policy: PolicyCandidate | undefined } | undefined;

    /**
     * `options.validJson`: the text is known to be strict JSON (`check` has parsed it), so it is not parsed again.
     * `options.urns`: the URNs that will be asked about; only their resources are indexed (a stack export of 100,000
     * roles holds 1.9 million strings). Another URN is still found: the whole index is made when one is asked for.
     */
    constructor(
        readonly text: string,
        private readonly options: { validJson?: boolean; urns?: ReadonlySet<string> } = {},
    ) {
        this.tree =
            PositionTree.ofJson(text, options.validJson) ??
            (/^(?:AWSTemplateFormatVersion|Resources)[ \t]*:/m.test(text) ? yamlTree(text) : null);
        this.lines = new LineIndex(text);
    }

    /** The resource whose property has the string `urn` (the smallest such object, the first in the file). */
    private resource(urn: string): { row: number; at: number } | undefined {
        if (this.tree === null) return undefined;
        const wanted = this.options.urns;
        if (this.resources === undefined) {
            this.resources = this.tree.indexStringProperties(wanted);
            this.indexedAll = wanted === undefined;
        }
        const found = this.resources.get(urn);
        if (found !== undefined || this.indexedAll || wanted?.has(urn) === true) return found;
        // Asked for a URN it was not told of: every string, once.
        this.resources = this.tree.indexStringProperties();
        this.indexedAll = true;
        return this.resources.get(urn);
    }

    /** The object declared under `name` on `line` (a CloudFormation resource), and the offset of its key. */
    private declaredAt(declared: { line: number; name: string }): { row: number; at: number } | undefined {
        const row = this.tree?.propertyOnLine(declared.name, declared.line, this.lines);
        return row === undefined ? undefined : { row, at: this.tree!.keyStart(row) };
    }

    /** The row the query is about (the whole file without a URN or declaration), and the position of its key. */
    private scope(query: { urn?: string; declared?: { line: number; name: string } }): { row: number; at?: number } | undefined {
        if (query.declared) return this.declaredAt(query.declared);
        if (query.urn !== undefined) return this.resource(query.urn);
        return { row: 0 };
    }

    /** The position of a finding (or of the resource, when `location` is absent). Never throws. */
    locate(query: LocateQuery): SourcePosition {
        const fallback: SourcePosition = query.declared
            ? { line: query.declared.line, column: 1, exact: false }
            : { line: 1, column: 1, exact: false };
        if (!this.tree) return query.declared ? fallback : (this.locateText(query) ?? fallback);
        const scope = this.scope(query);
        if (!scope) return fallback;
        const anchor = scope.at === undefined ? fallback : positionAt(this.lines, scope.at, false);
        if (!query.location) return scope.at === undefined ? fallback : { ...anchor, exact: true };
        const policy = this.policyIn(scope.row);
        if (!policy) return anchor;
        if (policy.embedded !== undefined) return positionAt(this.lines, policy.embedded.at, false);
        const { offset, exact } = offsetIn(policy.doc, query.location);
        return positionAt(this.lines, offset, exact);
    }

    /** The statement at `index` of the (only) trust policy in scope, pretty-printed; undefined when not found. */
    statement(query: { urn?: string; declared?: { line: number; name: string }; statementIndex: number }): string | undefined {
        if (!this.tree) return undefined;
        const scope = this.scope(query);
        if (!scope) return undefined;
        const policy = this.policyIn(scope.row);
        if (!policy) return undefined;
        const st = statementNode(policy.doc, query.statementIndex);
        if (!st) return undefined;
        const source = policy.embedded?.text ?? this.text;
        try {
            return JSON.stringify(JSON.parse(source.slice(st.start, st.end)), null, 2);
        } catch {
            return undefined;
        }
    }

    /**
     * The trust policy inside `row` when there is exactly one. A stack export holds it twice (inputs and outputs):
     * copies with the same text count once, and the first (inputs) is used.
     */
    private policyIn(row: number): PolicyCandidate | undefined {
        // Every finding of a resource asks for its policy, twice (position and statement), one resource after the
        // other: each scope is made into objects and its embedded text parsed once, not once per question.
        if (this.last?.row === row) return this.last.policy;
        const found: PolicyCandidate[] = [];
        findPolicies(this.tree!.node(row), found, 8);
        const texts = new Set(found.map((c) => c.embedded?.text ?? this.text.slice(c.doc.start, c.doc.end)));
        const policy = found.length === 0 || found.length > 8 || texts.size !== 1 ? undefined : found[0];
        this.last = { row, policy };
        return policy;
    }

    private locateText(query: LocateQuery): SourcePosition | undefined {
        // Without a parse tree a condition key is only trusted when no resource scope is needed.
        if (query.urn !== undefined) return uniqueLine(this.text, query.urn, this.lines);
        const key = query.location?.conditionKey;
        return key ? uniqueLine(this.text, key, this.lines) : undefined;
    }
}

/** A CloudFormation YAML template's position tree, or null when the text is not a YAML mapping. */
function yamlTree(text: string): PositionTree | null {
    const root = parseYamlWithPositions(text);
    return root === null ? null : PositionTree.ofNodes(text, root);
}
