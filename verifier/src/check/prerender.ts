/**
 * Role results written from their templates, not by `JSON.stringify`.
 *
 * A trust policy read from a template (the analysis core's templates.ts) has the analysis of every other text of that
 * template, but for its names. Its result in the report is the same JSON too, but for those names, the role's own
 * file, URN, type and name, and the findings the stack audience check adds. So that JSON is made once per template
 * (and per trust policy property, verdict, number of added findings, which names hold a `-` and how its audience
 * lists sort): the result of the analysis read back with a mark for each name (`markedAnalysis`), in a target of
 * marks, stringified and cut at the marks into pieces of the report's bytes. Each later role of that kind is a
 * {@link TemplatedResult}: its values, written between the pieces, each escaped as `JSON.stringify` escapes a string.
 * Neither its analysis (beyond what it admits, for the audience check) nor its result objects are made.
 *
 * A role is written this way only when its result is what its analysis makes and the audience check's findings,
 * nothing else: no note of the input or role, no secret, no `Fn::If` variants, nothing unknown at preview. The
 * pieces of each kind are checked against the first role of that kind, whose full result is made and stringified:
 * pieces that do not give its very bytes are never used.
 */
import {
    analysisOfRead,
    mark,
    markedAnalysis,
    MARK_START,
    type AdmittedSet,
    type Finding,
    type Names,
    type TemplateOf,
    type TemplateRead,
    type TrustAnalysis,
    type Verdict,
} from "oidc-guard-policypack/analysis";
import { ByteSink, renderItems, type WrittenItem } from "../chunks.js";
import { encodeJsonOutput } from "../escape.js";
import { mayHoldSecret } from "../redact.js";
import type { CheckResult, CheckTarget } from "../results.js";

/** Builds a role's result from an analysis: the one function both a role and its template's marked result use. */
export type ResultOf = (target: CheckTarget, property: string, analysis: TrustAnalysis) => CheckResult;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
}

const TARGET_MARKS = { file: mark("f", 0), urn: mark("u", 0), type: mark("t", 0), name: mark("n", 0) };

/** A mark as {@link TemplatedResult.marked} writes it: its kind and number (a name's mark may hold a `-`). */
export const MARK_IN_TEXT = new RegExp(`${MARK_START}([futnwg])(\\d+)-?${MARK_START}`, "g");

/** The value a mark of `kind` and `index` stands for in `role`'s result (see {@link Pieces.write}). */
export function markValue(kind: string, index: number, role: TemplatedRole): string {
    const r = role.target.resource;
    switch (kind) {
        case "f":
            return role.target.file;
        case "u":
            return r?.urn ?? "";
        case "t":
            return r?.type ?? "";
        case "n":
            return r?.name ?? "";
        case "w":
            return role.read.names.whole[index] ?? "";
        default:
            return role.read.names.globs[index] ?? "";
    }
}

/** {@link MARK_START} as `JSON.stringify` writes it in a string (`\\u0001`), as a regular expression's source. */
const JSON_MARK_START = JSON.stringify(MARK_START).slice(1, -1).replace(/\\/g, "\\\\");

/**
 * What a mark looks like in `JSON.stringify`'s text (the control character written as `\u0001`); an added finding's
 * mark stands for the whole item, quotes and all.
 */
const MARK_IN_JSON = new RegExp(`"${JSON_MARK_START}(x)(\\d+)${JSON_MARK_START}"|${JSON_MARK_START}([futnwg])(\\d+)-?${JSON_MARK_START}`, "g");

/** A string's bytes in the report: escaped as `JSON.stringify` writes it inside its quotes, then for output. */
function writeValue(s: string, into: ByteSink): void {
    if (into.plain(s)) return;
    const quoted = JSON.stringify(s);
    into.bytes(encodeJsonOutput(quoted.slice(1, quoted.length - 1)));
}

/** A marked result's JSON cut at its marks: literal pieces (as the report's bytes), and what each mark stands for. */
class Pieces {
    private constructor(
        private readonly text: readonly Uint8Array[],
        private readonly kinds: readonly string[],
        private readonly indexes: readonly number[],
        private readonly findingsDepth: number,
    ) {}

    /** `json` cut at its marks; `findingsDepth`: how deep the findings' items are. */
    static cut(json: string, findingsDepth: number): Pieces {
        const text: Uint8Array[] = [];
        const kinds: string[] = [];
        const indexes: number[] = [];
        let from = 0;
        // A mark's own `-` is its name's: the name is written in its place, `-` and all.
        for (const m of json.matchAll(MARK_IN_JSON)) {
            text.push(encodeJsonOutput(json.slice(from, m.index)));
            kinds.push(m[1] ?? m[3]!);
            indexes.push(Number(m[2] ?? m[4]));
            from = m.index + m[0].length;
        }
        text.push(encodeJsonOutput(json.slice(from)));
        return new Pieces(text, kinds, indexes, findingsDepth);
    }

    /**
     * The role's bytes: the pieces, and between them what the marks stand for: `f`, `u`, `t`, `n` its target's, `w`
     * and `g` its names, `x` the findings added after its analysis's (the stack audience check's), written whole.
     */
    write(file: string, r: NonNullable<CheckTarget["resource"]>, names: Names, added: readonly Finding[], into: ByteSink): void {
        into.bytes(this.text[0]!);
        for (let i = 0; i < this.kinds.length; i++) {
            let value: string | undefined;
            switch (this.kinds[i]) {
                case "f":
                    value = file;
                    break;
                case "u":
                    value = r.urn;
                    break;
                case "t":
                    value = r.type;
                    break;
                case "n":
                    value = r.name;
                    break;
                case "w":
                    value = names.whole[this.indexes[i]!];
                    break;
                case "g":
                    value = names.globs[this.indexes[i]!];
                    break;
                case "x": {
                    // Its first line's indentation is the piece's before it.
                    const json = renderItems([added[this.indexes[i]!]], this.findingsDepth).slice(2 * this.findingsDepth + 2);
                    if (!into.json(json)) into.bytes(encodeJsonOutput(json));
                    into.bytes(this.text[i + 1]!);
                    continue;
                }
            }
            writeValue(value ?? "", into);
            into.bytes(this.text[i + 1]!);
        }
    }
}

/** A template's pieces for one kind of role (null: they did not give the first role's bytes). */
interface Variant {
    property: string;
    verdict: Verdict;
    added: number;
    dashes: string | number;
    order: string;
    pieces: Pieces | null;
}

/** Which names hold a `-`: a bit each (a string of 0 and 1 past 30 names). */
function dashesOf(names: Names): string | number {
    const all = names.whole.length + names.globs.length;
    if (all <= 30) {
        let bits = 0;
        for (let i = 0; i < names.whole.length; i++) if (names.whole[i]!.includes("-")) bits |= 1 << i;
        for (let i = 0; i < names.globs.length; i++) if (names.globs[i]!.includes("-")) bits |= 1 << (names.whole.length + i);
        return bits;
    }
    return [...names.whole, ...names.globs].map((n) => (n.includes("-") ? "1" : "0")).join("");
}

/**
 * Whether a value a role of a template's kind writes between its pieces may hold a credential (redact.ts
 * `mayHoldSecret`). The file and the type are those of the role before, nearly always: each is asked once. A
 * resource's name ends its URN (Pulumi's URNs do), and what the URN does not hold, no part of it holds.
 */
class ValueGate {
    private file = "";
    private fileMay = false;
    private type = "";
    private typeMay = false;
    /** A URN's text before its name (`urn:pulumi:<stack>::<project>::<type>::`), the same for every role of a stack. */
    private urnHead = "";
    private urnHeadMay = false;

    mayHoldSecret(role: TemplatedRole, r: NonNullable<CheckTarget["resource"]>): boolean {
        if (role.target.file !== this.file) {
            this.file = role.target.file;
            this.fileMay = mayHoldSecret(this.file);
        }
        if (r.type !== this.type) {
            this.type = r.type;
            this.typeMay = mayHoldSecret(this.type);
        }
        if (this.fileMay || this.typeMay || this.urnMay(r.urn, r.name)) return true;
        const { whole, globs } = role.read.names;
        for (const n of whole) if (mayHoldSecret(n)) return true;
        for (const n of globs) if (mayHoldSecret(n)) return true;
        return false;
    }

    /**
     * Whether the URN or the name may hold a credential. A URN that ends in `::<name>` is its head and the name,
     * and no shape reaches across `::` (none holds a `:`): the head is asked once per stack and type, the name alone.
     */
    private urnMay(urn: string, name: string): boolean {
        const cut = urn.length - name.length;
        if (cut < 2 || !urn.endsWith(name) || urn.charCodeAt(cut - 1) !== 0x3a || urn.charCodeAt(cut - 2) !== 0x3a) return mayHoldSecret(urn) || mayHoldSecret(name);
        if (urn.length - name.length !== this.urnHead.length || !urn.startsWith(this.urnHead)) {
            this.urnHead = urn.slice(0, cut);
            this.urnHeadMay = mayHoldSecret(this.urnHead);
        }
        return this.urnHeadMay || mayHoldSecret(name);
    }
}

/** Past this many kinds of role, a template's further kinds are made in full. */
const MAX_VARIANTS = 16;

/** What a role of a template is, as {@link Templates.result} is told. */
export interface TemplatedRole {
    target: CheckTarget;
    property: string;
    read: TemplateRead;
    /** How its audience lists sort (`admittedOfRead`). */
    order: string;
    /** Its verdict once the audience check's findings were added. */
    verdict: Verdict;
    /** The audience check's findings, as added to its result (after the analysis's). */
    added: readonly Finding[];
}

/**
 * The result of `role`'s kind with a mark in place of each value (its target's and its names), and the role's
 * verdict, without the findings added after the analysis; undefined when the template has no such reading.
 */
function markedResult(role: TemplatedRole, resultOf: ResultOf): CheckResult | undefined {
    const analysis = markedAnalysis(role.read.template, role.read.names, role.order);
    if (analysis === undefined) return undefined;
    const marked = resultOf({ file: TARGET_MARKS.file, resource: { urn: TARGET_MARKS.urn, type: TARGET_MARKS.type, name: TARGET_MARKS.name } }, role.property, analysis);
    marked.verdict = role.verdict;
    return marked;
}

/**
 * A template's role's full result: its analysis read back, made into a result by `resultOf`, with the added findings
 * and the verdict they made (what completing it adds, and nothing else).
 */
function fullResult(role: TemplatedRole, resultOf: ResultOf): CheckResult {
    const made = resultOf(role.target, role.property, analysisOfRead(role.read).analysis);
    for (const f of role.added) made.findings.push(f);
    made.verdict = role.verdict;
    return made;
}

/**
 * The pieces of one checker's templates: each role of a kind seen before is a {@link TemplatedResult}. For results
 * written into a JSON report with {@link templatedItem}, their array `depth` arrays deep.
 */
export class Templates {
    private readonly variants = new WeakMap<TemplateOf, Variant[]>();
    private readonly gate = new ValueGate();
    constructor(
        private readonly depth: number,
        private readonly resultOf: ResultOf,
    ) {}

    /** The role's result: a {@link TemplatedResult} when its kind has checked pieces, else its full result. */
    result(role: TemplatedRole): CheckResult {
        const { target, property, read, order, verdict, added } = role;
        const resource = target.resource;
        // Every target is `{ file, resource: { urn, type, name } }`; one with a line is made in full, and so is one
        // with a value that may hold a credential (the caller redacts a full result; pieces are written as they are).
        if (resource === undefined || target.line !== undefined || this.gate.mayHoldSecret(role, resource)) return fullResult(role, this.resultOf);
        const dashes = dashesOf(read.names);
        let variants = this.variants.get(read.template);
        if (variants === undefined) this.variants.set(read.template, (variants = []));
        for (const v of variants) {
            if (v.property === property && v.verdict === verdict && v.added === added.length && v.dashes === dashes && v.order === order) {
                if (v.pieces === null) return fullResult(role, this.resultOf);
                return new TemplatedResult(v.pieces, this.depth, role, resource, this.resultOf);
            }
        }
        const full = fullResult(role, this.resultOf);
        if (variants.length < MAX_VARIANTS) {
            variants.push({ property, verdict, added: added.length, dashes, order, pieces: this.learn(role, resource, full) });
        }
        return full;
    }

    /** The pieces of the role's kind, checked against its full result; null when they do not give its bytes. */
    private learn(role: TemplatedRole, resource: NonNullable<CheckTarget["resource"]>, full: CheckResult): Pieces | null {
        const marked = markedResult(role, this.resultOf);
        if (marked === undefined) return null;
        // The findings added after the analysis's, each a mark for its whole item.
        for (let i = 0; i < role.added.length; i++) marked.findings.push(mark("x", i) as unknown as Finding);
        const json = renderItems([marked], this.depth);
        // A `#` at a piece's edge and one at a value's would make a `##[` that neither holds alone, which output
        // escaping spells otherwise in the whole text; and a piece that may hold a credential (a trust policy's own
        // text) would be written unredacted: such a kind is written in full.
        if (json.includes("#") || mayHoldSecret(json)) return null;
        // The findings array is two levels inside the result (its object, then the array).
        const pieces = Pieces.cut(json, this.depth + 2);
        const sink = new ByteSink();
        pieces.write(role.target.file, resource, role.read.names, role.added, sink);
        return sameBytes(sink.take(), encodeJsonOutput(renderItems([full], this.depth))) ? pieces : null;
    }
}

/**
 * A role's result as the pieces of its template's kind and its own values ({@link Templates}): written as bytes by
 * {@link templatedItem}. Anything that reads more of it than its verdict (or stringifies it: `toJSON`) gets the full
 * result, made then; from then on it is no longer written from the template.
 */
export class TemplatedResult implements CheckResult, WrittenItem {
    private made: CheckResult | undefined;

    constructor(
        private readonly pieces: Pieces,
        /** How deep the array it is written in is. */
        readonly depth: number,
        private readonly role: TemplatedRole,
        private readonly resource: NonNullable<CheckTarget["resource"]>,
        private readonly resultOf: ResultOf,
    ) {}

    /** Its full result, made once. */
    full(): CheckResult {
        return (this.made ??= fullResult(this.role, this.resultOf));
    }

    /** Whether it is still written from its template (nothing read or changed more than its verdict). */
    get templated(): boolean {
        return this.made === undefined;
    }

    get verdict(): Verdict {
        return this.made === undefined ? this.role.verdict : this.made.verdict;
    }
    set verdict(v: Verdict) {
        this.full().verdict = v;
    }
    get target(): CheckTarget {
        return this.full().target;
    }
    set target(v: CheckTarget) {
        this.full().target = v;
    }
    get findings(): Finding[] {
        return this.full().findings;
    }
    set findings(v: Finding[]) {
        this.full().findings = v;
    }
    get admitted(): AdmittedSet[] | undefined {
        return this.full().admitted;
    }
    set admitted(v: AdmittedSet[] | undefined) {
        this.full().admitted = v;
    }
    get notes(): string[] | undefined {
        return this.full().notes;
    }
    set notes(v: string[] | undefined) {
        this.full().notes = v;
    }

    toJSON(): CheckResult {
        return this.full();
    }

    /** Its kind: the same object for every role written from the same pieces (a template's kind of role). */
    get kind(): object {
        return this.pieces;
    }

    /** What it is made of, for a writer of its own (the text report), which reads no more of it than that. */
    get templatedRole(): TemplatedRole {
        return this.role;
    }

    /**
     * Its kind's result with a mark in place of each of its values (the target's and the names, {@link markValue}),
     * without the findings added after the analysis; undefined when there is none.
     */
    marked(): CheckResult | undefined {
        return markedResult(this.role, this.resultOf);
    }

    writeTo(into: ByteSink): void {
        const role = this.role;
        this.pieces.write(role.target.file, this.resource, role.read.names, role.added, into);
    }
}

/**
 * `item`'s bytes in a JSON report's array `depth` deep (an `ItemWriter`): a {@link TemplatedResult} for that depth, still
 * written from its template.
 */
export function templatedItem(item: unknown, depth: number): WrittenItem | undefined {
    return item instanceof TemplatedResult && item.depth === depth && item.templated ? item : undefined;
}
