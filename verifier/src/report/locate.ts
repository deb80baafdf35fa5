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
 * whether it is JSON; one scan of the valid text then records where each value is. A stack export of 100,000 roles
 * is 145 MB: a general parser's syntax tree of it (a node per value, with parents) took 8 s and 2.4 GB.
 */
export function parseJsonWithPositions(text: string): JsonNode | null {
    // The scan first: it stops at the reader's depth limit, so a hostile nesting costs no full parse. Its tree
    // counts only when `JSON.parse` accepts the text.
    let tree: JsonNode | null;
    try {
        tree = positionsOfValidJson(text);
    } catch {
        return null;
    }
    if (tree === null) return null;
    try {
        JSON.parse(text);
    } catch {
        return null;
    }
    return tree;
}

type ContainerNode = Extract<JsonNode, { kind: "object" | "array" }>;

/**
 * The position tree of `text`, or null when it nests deeper than the reader's limit (MAX_DEPTH open containers) or
 * a string does not end. Meaningful only for valid JSON (the caller checks that). Iterative (an explicit stack of
 * open containers). A string without a backslash is its own slice; one with escapes is decoded by `JSON.parse`.
 */
function positionsOfValidJson(text: string): JsonNode | null {
    const n = text.length;
    const open: ContainerNode[] = [];
    let root: JsonNode | null = null;
    // Inside an object: the key read last, waiting for its value.
    let key: { key: string; keyStart: number } | undefined;
    const attach = (node: JsonNode): void => {
        const top = open[open.length - 1];
        if (top === undefined) root = node;
        else if (top.kind === "array") top.items.push(node);
        else if (key !== undefined) {
            top.entries.push({ key: key.key, keyStart: key.keyStart, value: node });
            key = undefined;
        }
    };
    let i = 0;
    while (i < n) {
        const c = text.charCodeAt(i);
        if (isJsonSpace(c) || c === 0x2c || c === 0x3a) {
            i++;
        } else if (c === 0x7b || c === 0x5b) {
            if (open.length >= MAX_DEPTH) return null;
            const node: ContainerNode = c === 0x7b ? { kind: "object", start: i, end: n, entries: [] } : { kind: "array", start: i, end: n, items: [] };
            attach(node);
            open.push(node);
            i++;
        } else if (c === 0x7d || c === 0x5d) {
            const node = open.pop();
            if (node !== undefined) node.end = i + 1;
            i++;
        } else if (c === 0x22) {
            const end = closingQuote(text, i);
            if (end < 0) return null;
            const raw = text.slice(i + 1, end);
            const value = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
            const top = open[open.length - 1];
            if (top?.kind === "object" && key === undefined) key = { key: value, keyStart: i };
            else attach({ kind: "string", start: i, end: end + 1, value });
            i = end + 1;
        } else {
            // A number, true, false or null: up to the next separator, bracket or space.
            let j = i + 1;
            while (j < n) {
                const d = text.charCodeAt(j);
                if (isJsonSpace(d) || d === 0x2c || d === 0x5d || d === 0x7d) break;
                j++;
            }
            attach({ kind: "scalar", start: i, end: j });
            i = j;
        }
    }
    return root;
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

/**
 * Every string value mapped to the smallest object that has a property with that value, and the offset of that
 * property; the first such object in document order wins. One walk of the file, so locating N resources is linear.
 */
function indexStringProperties(root: JsonNode): Map<string, { node: JsonNode; at: number }> {
    const index = new Map<string, { node: JsonNode; at: number }>();
    const visit = (node: JsonNode): void => {
        if (node.kind === "object") {
            // Children first: a smaller object inside wins over this one.
            for (const e of node.entries) visit(e.value);
            for (const e of node.entries) {
                if (e.value.kind === "string" && !index.has(e.value.value)) index.set(e.value.value, { node, at: e.keyStart });
            }
        } else if (node.kind === "array") {
            for (const item of node.items) visit(item);
        }
    };
    visit(root);
    return index;
}

/** A trust policy document found in the file: an object with `Statement`, or a JSON string holding one. */
interface PolicyCandidate {
    doc: JsonNode;
    /** Set when the document is embedded as a JSON string: positions inside it are reported at the string. */
    embeddedAt?: number;
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
            out.push({ doc: inner, embeddedAt: node.start });
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
    private readonly root: JsonNode | null;
    private readonly lines: LineIndex;
    private resources: Map<string, { node: JsonNode; at: number }> | undefined;
    private readonly policies = new WeakMap<JsonNode, PolicyCandidate | undefined>();
    constructor(readonly text: string) {
        this.root =
            parseJsonWithPositions(text) ??
            (/^(?:AWSTemplateFormatVersion|Resources)[ \t]*:/m.test(text) ? parseYamlWithPositions(text) : null);
        this.lines = new LineIndex(text);
    }

    /** The object declared under `name` on `line` (a CloudFormation resource), and the offset of its key. */
    private declaredAt(declared: { line: number; name: string }): { node: JsonNode; at: number } | undefined {
        if (!this.root) return undefined;
        const stack: JsonNode[] = [this.root];
        while (stack.length > 0) {
            const node = stack.pop()!;
            if (node.kind === "object") {
                for (const e of node.entries) {
                    if (e.key === declared.name && this.lines.at(e.keyStart).line === declared.line) {
                        return { node: e.value, at: e.keyStart };
                    }
                    stack.push(e.value);
                }
            } else if (node.kind === "array") for (const item of node.items) stack.push(item);
        }
        return undefined;
    }

    /** The position of a finding (or of the resource, when `location` is absent). Never throws. */
    locate(query: LocateQuery): SourcePosition {
        const fallback: SourcePosition = query.declared
            ? { line: query.declared.line, column: 1, exact: false }
            : { line: 1, column: 1, exact: false };
        if (!this.root) return query.declared ? fallback : (this.locateText(query) ?? fallback);
        let scope: JsonNode = this.root;
        let anchor = fallback;
        if (query.declared) {
            const res = this.declaredAt(query.declared);
            if (!res) return fallback;
            scope = res.node;
            anchor = positionAt(this.lines, res.at, false);
            if (!query.location) return { ...anchor, exact: true };
        } else if (query.urn !== undefined) {
            this.resources ??= indexStringProperties(this.root);
            const res = this.resources.get(query.urn);
            if (!res) return fallback;
            scope = res.node;
            anchor = positionAt(this.lines, res.at, false);
        }
        if (!query.location) return query.urn !== undefined ? { ...anchor, exact: true } : fallback;
        const policy = this.policyIn(scope);
        if (!policy) return anchor;
        const { offset, exact } = offsetIn(policy.doc, query.location);
        if (policy.embeddedAt !== undefined) return positionAt(this.lines, policy.embeddedAt, false);
        return positionAt(this.lines, offset, exact);
    }

    /** The statement at `index` of the (only) trust policy in scope, pretty-printed; undefined when not found. */
    statement(query: { urn?: string; declared?: { line: number; name: string }; statementIndex: number }): string | undefined {
        if (!this.root) return undefined;
        let scope: JsonNode = this.root;
        if (query.declared) {
            const res = this.declaredAt(query.declared);
            if (!res) return undefined;
            scope = res.node;
        } else if (query.urn !== undefined) {
            this.resources ??= indexStringProperties(this.root);
            const res = this.resources.get(query.urn);
            if (!res) return undefined;
            scope = res.node;
        }
        const policy = this.policyIn(scope);
        if (!policy) return undefined;
        const st = statementNode(policy.doc, query.statementIndex);
        if (!st) return undefined;
        const source = policy.embeddedAt !== undefined ? this.embeddedText(policy) : this.text;
        try {
            return JSON.stringify(JSON.parse(source.slice(st.start, st.end)), null, 2);
        } catch {
            return undefined;
        }
    }

    private embeddedText(policy: PolicyCandidate): string {
        const at = policy.embeddedAt ?? 0;
        const node = this.root ? stringAt(this.root, at) : undefined;
        return node ?? "";
    }

    /**
     * The trust policy inside `scope` when there is exactly one. A stack export holds it twice (inputs and outputs):
     * copies with the same text count once, and the first (inputs) is used.
     */
    private policyIn(scope: JsonNode): PolicyCandidate | undefined {
        // Every finding of a resource asks for its policy, twice (position and statement): each embedded text is
        // parsed once per scope, not once per question.
        if (this.policies.has(scope)) return this.policies.get(scope);
        const policy = this.findPolicyIn(scope);
        this.policies.set(scope, policy);
        return policy;
    }

    private findPolicyIn(scope: JsonNode): PolicyCandidate | undefined {
        const found: PolicyCandidate[] = [];
        findPolicies(scope, found, 8);
        if (found.length === 0 || found.length > 8) return undefined;
        const texts = new Set(found.map((c) => (c.embeddedAt !== undefined ? this.embeddedText(c) : this.text.slice(c.doc.start, c.doc.end))));
        return texts.size === 1 ? found[0] : undefined;
    }

    private locateText(query: LocateQuery): SourcePosition | undefined {
        // Without a parse tree a condition key is only trusted when no resource scope is needed.
        if (query.urn !== undefined) return uniqueLine(this.text, query.urn, this.lines);
        const key = query.location?.conditionKey;
        return key ? uniqueLine(this.text, key, this.lines) : undefined;
    }
}

/** How many children a node has, and its `i`-th (an object's property values, an array's items). */
function childCount(node: JsonNode): number {
    return node.kind === "object" ? node.entries.length : node.kind === "array" ? node.items.length : 0;
}

function childAt(node: JsonNode, i: number): JsonNode | undefined {
    return node.kind === "object" ? node.entries[i]?.value : node.kind === "array" ? node.items[i] : undefined;
}

/**
 * The string value that starts at offset `start`. Children are in document order and do not overlap, so each level
 * is a binary search: a stack export's `resources` array holds one child per resource, and every finding of every
 * role looks its policy text up here (a linear scan of that array made 100,000 roles quadratic).
 */
function stringAt(root: JsonNode, start: number): string | undefined {
    let node: JsonNode | undefined = root;
    while (node !== undefined) {
        if (node.kind === "string") return node.start === start ? node.value : undefined;
        // The last child that starts at or before `start`: the only one that can hold it.
        let lo = 0;
        let hi = childCount(node) - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if ((childAt(node, mid)?.start ?? Infinity) <= start) lo = mid;
            else hi = mid - 1;
        }
        const child = childAt(node, lo);
        node = child !== undefined && child.start <= start && start < child.end ? child : undefined;
    }
    return undefined;
}

