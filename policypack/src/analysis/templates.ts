/**
 * Trust policy texts that differ only in names get their analysis without being read again: the text's template.
 *
 * The shape cache (canonical.ts) still parses every document, looks for unknowns, renames its names and builds its
 * shape key before it finds the shape's analysis; for an estate of roles made from a few templates, that is most of
 * the time a distinct document costs. A template skips all of it. Scanning the text once splits it into literal text
 * and *slots*, the segments of its string values that a renaming could change (a `:`/`/`-separated segment, or the
 * literal head of a glob segment, spelled in Pulumi's name characters; never a grammar word or a name the options
 * hold, which stay literal). The text with each slot replaced by the number of its distinct value is the template's
 * key: equal keys mean the same JSON structure, the same literal text and the same pattern of equal slots.
 *
 * A template is learned from a document whose shape was analysed, on the second sighting of its key, and only when
 * probing shows that the slots play the roles a renaming allows. Each slot either holds one of the shape's renamed
 * names (the names read back), or is free (its value is in no part of the shape: another provider's condition value,
 * a `Sid`), or is fixed (another document must spell it the same: an action, a condition key, a provider ARN). The
 * probe replaces the name slots (and, first, the other slots too) with fresh names, and requires that the probe's
 * shape key is the document's and that its names are the fresh ones in the same places. Then any text of the same
 * key whose fixed slots agree, whose names have the same `-` as the learned ones, hold no unknown sentinel or
 * placeholder marker, and pass the renaming's own checks (canonical.ts `readsOneWay`, and the witness search's
 * made-up members spelling none of them) renames to the very same shape: its analysis is that shape's, read back
 * with its names. Anything else goes the full way, which gives the same result.
 */
import { BoundedCache } from "./automata.js";
import {
    FEW_NAMES,
    KEYWORDS,
    MARKER,
    distinctNames,
    isNameChar,
    namesIn,
    readBack,
    readBackMember,
    readsOneWay,
    spellsAName,
    type FixedSegments,
    type Names,
    type ReadBack,
} from "./canonical.js";
import type { AdmittedSet, AnalysisOptions, TrustAnalysis, Verdict } from "./types.js";
import { putOwn } from "./own.js";
import { holdsSentinel } from "./unknowns.js";

/** A text split into literal text and slots. */
export interface ScannedText {
    /** The text with each slot replaced by `\u0001` and the number of its value. */
    key: string;
    /** The distinct slot values, numbered in order of first appearance. */
    values: string[];
    /** Where each slot is: its offset in the text, its length and its number, in text order. */
    at: readonly number[];
}

/** Longer texts have no template (the shape cache leaves out shapes past 16 KiB for the same reason). */
const MAX_TEXT_CHARS = 16 * 1024;
/** Marks a slot in a key. A text that holds it is not scanned (raw control characters are no JSON anyway). */
const SLOT = "\u0001";
/**
 * A slot: a run of Pulumi's name characters (`[a-z0-9_.-]`, {@link isNameChar}) after a `"`, `:` or `/`, and before
 * a `"`, `:`, `/`, `*` or `?`; runs are read left to right, and the character that ends one may open the next. In
 * JSON text such a run is inside a string: a whole `:`/`/`-separated segment of it, or the literal head of a glob
 * segment. (Inside a string written with escapes a run can be part of a segment; the probe that learns a template
 * finds such a run fixed, free or unusable like any other.)
 *
 * What each ASCII character is to the scan, by its code: {@link OPENS} a run, is one of its {@link NAME}
 * characters, or {@link ENDS} one (any other character is none of these).
 */
const OPENS = 1;
const NAME = 2;
const ENDS = 4;
const CHAR_CLASS = (() => {
    // Every byte: none of these above ASCII (what {@link codesOf} writes for any other character).
    const t = new Uint8Array(256);
    for (const c of '"/:') t[c.charCodeAt(0)] = OPENS | ENDS;
    for (const c of "*?") t[c.charCodeAt(0)] = ENDS;
    for (let c = 0; c < 128; c++) if (isNameChar(c)) t[c] = NAME;
    return t;
})();

/** What {@link codesOf} writes into: room for a text of {@link MAX_TEXT_CHARS} characters, as UTF-8. */
const CODES = new Uint8Array(3 * MAX_TEXT_CHARS);
const UTF8 = new TextEncoder();

/**
 * The text's characters as bytes, in {@link CODES} (read before the next call): an ASCII text as it is (encoded
 * natively), any other with each character past ASCII as 0xff. Reading a byte array costs half what reading the
 * string character by character does (measured over a stack export's policy texts: 52 ms against 100 ms for 100,000).
 */
function codesOf(text: string): Uint8Array {
    const n = text.length;
    if (UTF8.encodeInto(text, CODES).written === n) return CODES;
    for (let k = 0; k < n; k++) {
        const c = text.charCodeAt(k);
        CODES[k] = c < 0x80 ? c : 0xff;
    }
    return CODES;
}

/**
 * Words nearly every trust policy spells in the same places (its version, provider ARNs, the action, the claims):
 * kept literal, they are no slots to number and check. Being literal only makes keys more specific.
 */
const COMMON_WORDS = [
    ...["2012-10-17", "2008-10-17", "arn", "iam", "sts", "oidc-provider", "api.pulumi.com", "oidc", "aud", "sub"],
    ...["sts.amazonaws.com", "token.actions.githubusercontent.com"],
];
/** Never a slot: the grammar words and the common words. */
export const ALWAYS_LITERAL: ReadonlySet<string> = new Set([...KEYWORDS, ...COMMON_WORDS]);

/**
 * The words a scan keeps literal ({@link ALWAYS_LITERAL} and the options' names), found where they stand in the text:
 * each run is compared in place with the words of its length (`startsWith`), not cut out and hashed to be looked up
 * (most runs of a trust policy are such words: `arn`, `aws`, `oidc`, `pulumi`, `org`, ...). Measured: the scan of a
 * stack export's policy text took 2.2 µs, most of it in cutting and hashing runs.
 */
export class LiteralWords {
    /** The words of each length there are a few of ({@link FEW_WORDS}). */
    private readonly few: Array<readonly string[] | undefined> = [];
    /** The lengths there are more words of: a run of such a length is cut out and looked up in {@link all}. */
    private readonly many = new Set<number>();
    private readonly all: ReadonlySet<string>;

    constructor(literal: Iterable<string>) {
        this.all = new Set([...ALWAYS_LITERAL, ...literal]);
        const byLength = new Map<number, string[]>();
        for (const w of this.all) {
            const list = byLength.get(w.length);
            if (list === undefined) byLength.set(w.length, [w]);
            else list.push(w);
        }
        for (const [n, words] of byLength) {
            if (words.length <= FEW_WORDS) this.few[n] = words;
            else this.many.add(n);
        }
    }

    /** Whether `text` from `from` to `to` spells one of the words. */
    has(text: string, from: number, to: number): boolean {
        const n = to - from;
        const words = this.few[n];
        if (words !== undefined) {
            for (const w of words) if (text.startsWith(w, from)) return true;
            return false;
        }
        return this.many.has(n) && this.all.has(text.slice(from, to));
    }
}

/** At most this many words of a length are compared in place ({@link LiteralWords}); more are hashed. */
const FEW_WORDS = 8;

/**
 * Splits `text` into literal text and slots, or null when it holds the slot mark or is longer than 16 KiB (large
 * documents rarely repeat, and each key is kept). No grammar word, common word or segment in `literal` (the
 * options' names) is a slot.
 */
export function scanText(text: string, literal: ReadonlySet<string> | LiteralWords): ScannedText | null {
    const words = literal instanceof LiteralWords ? literal : new LiteralWords(literal);
    const n = text.length;
    if (n > MAX_TEXT_CHARS || text.includes(SLOT)) return null;
    const codes = codesOf(text);
    const values: string[] = [];
    const at: number[] = [];
    // A text's few values are found in their list; a Map only past FEW_NAMES of them.
    let ids: Map<string, number> | undefined;
    // The key in pieces (the literal text between slots, each slot's mark and number), joined once at the end.
    const key: string[] = [];
    let copied = 0;
    let i = 0;
    while (i < n) {
        if ((CHAR_CLASS[codes[i]!]! & OPENS) === 0) {
            i++;
            continue;
        }
        let j = i + 1;
        while (j < n && (CHAR_CLASS[codes[j]!]! & NAME) !== 0) j++;
        // No run, or one that a slot's end does not follow: the next run opens no earlier than where this one stopped.
        if (j === i + 1 || j === n || (CHAR_CLASS[codes[j]!]! & ENDS) === 0) {
            i = j;
            continue;
        }
        if (!words.has(text, i + 1, j)) {
            const run = text.slice(i + 1, j);
            let id = ids !== undefined ? (ids.get(run) ?? -1) : values.indexOf(run);
            if (id < 0) {
                id = values.length;
                values.push(run);
                if (ids !== undefined) ids.set(run, id);
                else if (values.length > FEW_NAMES) ids = new Map(values.map((v, j) => [v, j]));
            }
            at.push(i + 1, j - i - 1, id);
            key.push(text.slice(copied, i + 1), SLOT, String(id));
            copied = j;
        }
        // The character that ends this run may open the next one.
        i = j;
    }
    key.push(text.slice(copied));
    return { key: key.join(""), values, at };
}

/** The text with each slot's value replaced by `values[slot]`. */
function fill(text: string, at: readonly number[], values: readonly string[]): string {
    const out: string[] = [];
    let from = 0;
    for (let i = 0; i < at.length; i += 3) {
        out.push(text.slice(from, at[i]), values[at[i + 2]!]!);
        from = at[i]! + at[i + 1]!;
    }
    out.push(text.slice(from));
    return out.join("");
}

/** A learned template: what a text of its key needs to satisfy, and the analysis it reads back. */
interface Template {
    compiled: ReadBack;
    /** The segments of the members the shape's witness search made up (canonical.ts `madeUpSegments`). */
    madeUpSegments: readonly string[];
    /** Per slot: the value a text must spell there (fixed), or undefined (a name, or free). */
    fixed: ReadonlyArray<string | undefined>;
    /** Per slot that holds a name: whether the name holds a `-` (the shape's placeholder says so). */
    dash: ReadonlyArray<boolean | undefined>;
    /** Per renamed whole name and glob head: the slot whose value it is, or the name itself (an option's). */
    whole: ReadonlyArray<string | number>;
    globs: ReadonlyArray<string | number>;
    segments: FixedSegments;
}

/** What a document's shape analysis left to learn its template from. */
export interface LearnedShape {
    /** The shape key of the renamed document. */
    key: string;
    names: Names;
    segments: FixedSegments;
    compiled: ReadBack;
    /** The segments of the members the shape's witness search made up (canonical.ts `madeUpSegments`). */
    madeUpSegments: readonly string[];
}

/** A text's shape key and names, as the full way computes them (null when that way renames nothing). */
export type ShapeProbe = (text: string) => { key: string; names: Names } | null;

const TEMPLATE_ENTRIES = 2048;
/** Past this many slots other than names, a template that reads some of them keeps them all fixed (one probe each). */
const MAX_SLOT_PROBES = 24;
/** Keys seen once: a template is learned on the second sighting, so a text that never repeats pays no probe. */
const SEEN_ENTRIES = 8192;
const OPTION_SETS = 64;

interface OptionState {
    literal: LiteralWords;
    /** Texts looked up under these options: a caller whose options change with every document never scans. */
    lookups: number;
    templates: BoundedCache<string, Template | null>;
    seen: BoundedCache<string, true>;
    /** The templates found last, with their keys, newest first ({@link templateOfKey}). */
    recent: Array<{ key: string; template: Template }>;
}

const byJson = new BoundedCache<string, OptionState>(OPTION_SETS);

/** Every segment and glob head the options spell: literal in every scan under them. */
function optionNames(options: AnalysisOptions): Set<string> {
    const out = new Set<string>();
    for (const v of [...(options.organizations ?? []), ...(options.audiences ?? []), ...(options.allowedSubjects ?? [])]) {
        for (const seg of v.split(/[:/]/)) {
            out.add(seg);
            const w = seg.search(/[*?]/);
            if (w > 0) out.add(seg.slice(0, w));
        }
    }
    return out;
}

/** The templates of one set of options, found by the options' JSON (never by the object, which a caller may change). */
function stateOf(options: AnalysisOptions): OptionState {
    const json = JSON.stringify(options);
    let state = byJson.get(json);
    if (state === undefined) {
        state = {
            literal: new LiteralWords(optionNames(options)),
            lookups: 0,
            templates: new BoundedCache(TEMPLATE_ENTRIES),
            seen: new BoundedCache(SEEN_ENTRIES),
            recent: [],
        };
        byJson.set(json, state);
    }
    return state;
}

/** The last text scanned, so that learning from the text a lookup just missed does not scan it again. */
let lastScan: { text: string; state: OptionState; scanned: ScannedText | null } | undefined;

function scanOf(text: string, state: OptionState): ScannedText | null {
    if (lastScan !== undefined && lastScan.text === text && lastScan.state === state) return lastScan.scanned;
    const scanned = scanText(text, state.literal);
    lastScan = { text, state, scanned };
    return scanned;
}

/**
 * The analysis of `text` read back from its template, or undefined when there is none that applies (the caller
 * then analyses the text the full way, and may learn its template with {@link learnTemplate}).
 */
export function analysisFromTemplate(text: string, options: AnalysisOptions): TrustAnalysis | undefined {
    const read = templateRead(text, options);
    return read === undefined ? undefined : analysisOfRead(read).analysis;
}

/**
 * A template a text was read from ({@link templateRead}): what its analysis is read back from, for
 * {@link markedAnalysis}. Compared by identity; nothing of it is for the caller to read.
 */
export interface TemplateOf {
    readonly compiled: ReadBack;
}

/** A text's template and the names its analysis is read back with ({@link analysisOfRead}, {@link admittedOfRead}). */
export interface TemplateRead {
    template: TemplateOf;
    names: Names;
    /** The text's slot values, numbered as its template's key numbers them ({@link principalsOfRead}). */
    values: readonly string[];
}

/**
 * The template `text` is read from, and its names, or undefined when there is none that applies: every text of that
 * template has an analysis that differs from the others' only in these names ({@link markedAnalysis}).
 */
export function templateRead(text: string, options: AnalysisOptions): TemplateRead | undefined {
    return readWith(text, stateOf(options));
}

/**
 * {@link templateRead} for a caller whose options do not change: the options' templates are found once, not by
 * their JSON for every text.
 */
export function templateReader(options: AnalysisOptions): (text: string) => TemplateRead | undefined {
    const state = stateOf(options);
    return (text) => readWith(text, state);
}

/** How many templates {@link templateOfKey} compares a key with before it looks the key up. */
const RECENT_TEMPLATES = 8;

/**
 * The template learned for `key`, if any. A scan's key is a new string each time, and looking it up hashes all of it
 * (as long as the text). Most texts of an export are of its few shapes, so the key is first compared with the keys of
 * the templates found last: a comparison stops at the length or the first character that differs, and one that
 * matches costs what one hash would. A template never changes once learned, and one the bounded map has let go stays
 * true of its texts, so a recent one is as good as the map's.
 */
function templateOfKey(state: OptionState, key: string): Template | undefined {
    const recent = state.recent;
    for (let i = 0; i < recent.length; i++) {
        const r = recent[i]!;
        if (r.key === key) return r.template;
    }
    const t = state.templates.get(key);
    if (t === undefined || t === null) return undefined;
    recent.unshift({ key, template: t });
    if (recent.length > RECENT_TEMPLATES) recent.pop();
    return t;
}

function readWith(text: string, state: OptionState): TemplateRead | undefined {
    // Templates are kept per set of options: the first text under new options has none to find, nor learns.
    if (state.lookups++ === 0) return undefined;
    const scanned = scanOf(text, state);
    if (scanned === null) return undefined;
    const t = templateOfKey(state, scanned.key);
    if (t === undefined) return undefined;
    const values = scanned.values;
    if (values.length !== t.fixed.length) return undefined;
    for (let j = 0; j < values.length; j++) {
        const v = values[j]!;
        const fixed = t.fixed[j];
        if (fixed !== undefined) {
            if (v !== fixed) return undefined;
            continue;
        }
        const dash = t.dash[j];
        if (dash !== undefined && v.includes("-") !== dash) return undefined;
        if (v.includes(MARKER) || holdsSentinel(v)) return undefined;
    }
    const whole = t.whole.map((x) => (typeof x === "number" ? values[x]! : x));
    const globs = t.globs.map((x) => (typeof x === "number" ? values[x]! : x));
    // A name that no slot holds (an option's, or one spelled with escapes) must stay another name than the slots'.
    if (!distinctNames(whole) || !distinctNames(globs)) return undefined;
    if (!readsOneWay(whole, namesIn(whole), globs, t.segments)) return undefined;
    const names: Names = { whole, globs };
    if (spellsAName(t.madeUpSegments, names)) return undefined;
    return { template: t, names, values };
}

/**
 * A template read's analysis: the template's read back with the names, and how its audience lists were sorted
 * (`order`, what a marked analysis is sorted by).
 */
export function analysisOfRead(read: TemplateRead): { analysis: TrustAnalysis; order: string } {
    const analysis = readBack<TrustAnalysis>(read.template.compiled, read.names);
    return { analysis, order: sortAudiences(analysis.admitted) };
}

/**
 * Only the verdict and what is admitted of a template read's analysis ({@link analysisOfRead} reads all of it): what
 * a role's stack audience check needs, with the audience lists' `order`.
 */
export function admittedOfRead(read: TemplateRead): { verdict: Verdict; admitted: AdmittedSet[]; order: string } {
    const { compiled } = read.template;
    const admitted = readBackMember<AdmittedSet[]>(compiled, read.names, "admitted") ?? [];
    const verdict = readBackMember<Verdict>(compiled, read.names, "verdict") ?? "error";
    return { verdict, admitted, order: sortAudiences(admitted) };
}

/**
 * Sorts each audience list in the document's names, as the shape cache sorts them; says how each list of more than
 * one was sorted (the old places in sorted order, `;` after each list).
 */
function sortAudiences(admitted: readonly AdmittedSet[]): string {
    let order = "";
    for (const a of admitted) {
        const audiences = a.audiences;
        if (audiences === undefined || audiences === null || audiences.length < 2) continue;
        const by = audiences.map((_, i) => i).sort((x, y) => compareUnits(audiences[x]!, audiences[y]!));
        const sorted = by.map((i) => audiences[i]!);
        for (let i = 0; i < sorted.length; i++) audiences[i] = sorted[i]!;
        order += `${by.join(",")};`;
    }
    return order;
}

/** `Array.prototype.sort`'s order of strings: by UTF-16 code units. */
function compareUnits(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** What every {@link mark} starts and ends with (a control character: no template's text holds one). */
export const MARK_START = "\u0001";

/**
 * A mark: a letter for its kind and a number, between two {@link MARK_START}s, with a `-` when the name it stands
 * for holds one. The one place the format is spelled. A marked analysis ({@link markedAnalysis}) marks whole names
 * `w` and glob heads `g`; the check's prerendered results mark a target's file `f`, URN `u`, type `t` and name `n`,
 * and added findings `x` (`verifier/src/check/prerender.ts`, which also reads marks back).
 */
export function mark(kind: string, index: number, dash = false): string {
    return `${MARK_START}${kind}${index}${dash ? "-" : ""}${MARK_START}`;
}

/**
 * The analysis of `template` read back with a mark ({@link mark}) in place of each of `names`, each mark holding a
 * `-` exactly when its name does (a name's `-` decides how it is read back), and its audience lists in `order` (how
 * {@link analysisOfRead} sorted the names' own): the analysis of every text read from the template with names of
 * that kind and that order, with the marks where its names go. Undefined when `order` is not one of this template's.
 */
export function markedAnalysis(template: TemplateOf, names: Names, order: string): TrustAnalysis | undefined {
    const marks: Names = {
        whole: names.whole.map((n, i) => mark("w", i, n.includes("-"))),
        globs: names.globs.map((n, i) => mark("g", i, n.includes("-"))),
    };
    const out = readBack<TrustAnalysis>(template.compiled, marks);
    const orders = order === "" ? [] : order.slice(0, -1).split(";");
    let next = 0;
    for (const a of out.admitted) {
        const audiences = a.audiences;
        if (audiences === undefined || audiences === null || audiences.length < 2) continue;
        const by = orders[next++]?.split(",").map(Number);
        if (by === undefined || by.length !== audiences.length) return undefined;
        const sorted = by.map((i) => audiences[i]);
        if (sorted.some((x) => x === undefined) || new Set(by).size !== by.length) return undefined;
        for (let i = 0; i < sorted.length; i++) audiences[i] = sorted[i]!;
    }
    return next === orders.length ? out : undefined;
}

/** Each learned template's key: the text of every text read from it, its slots marked ({@link ScannedText}). */
const keys = new WeakMap<TemplateOf, string>();

/**
 * What stands for a slot's value in a template's text parsed for its principals ({@link principalsOfRead}): the slot's
 * number between two of this control character, written into the text as JSON escapes. A template whose text
 * spells that escape itself has no principals to read.
 */
const SLOT_VALUE = "\u0002";
const SLOT_VALUE_ESCAPED = /\\u0002/i;
/** A slot and its number in a template's key ({@link ScannedText}). */
const SLOT_IN_KEY = new RegExp(`${SLOT}(\\d+)`, "g");

/**
 * A template's statements as the stack audience check reads them: made from a read's slot values, and the slots
 * whose values they hold (the last values and statements are kept: the roles of a stack mostly name one provider).
 */
interface PrincipalView {
    make: (values: readonly string[]) => unknown[];
    slots: readonly number[];
    last?: { key: string; statements: unknown[] };
}
const principalViews = new WeakMap<TemplateOf, PrincipalView | null>();

function principalView(template: TemplateOf): PrincipalView | null {
    let view = principalViews.get(template);
    if (view !== undefined) return view;
    view = null;
    const key = keys.get(template);
    if (key !== undefined && !SLOT_VALUE_ESCAPED.test(key)) {
        let doc: unknown;
        try {
            doc = JSON.parse(key.replace(SLOT_IN_KEY, "\\u0002$1\\u0002"));
        } catch {
            doc = undefined;
        }
        const statement = doc !== null && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>)["Statement"] : undefined;
        const list = Array.isArray(statement) ? statement : statement !== null && typeof statement === "object" ? [statement] : undefined;
        if (list !== undefined) {
            const slots = new Set<number>();
            // Only each statement's Principal: all the audience check reads of it (a statement that is no object, or
            // an array, is kept as it is).
            const makers = list.map((s: unknown) =>
                maker(s !== null && typeof s === "object" && !Array.isArray(s) ? { Principal: (s as Record<string, unknown>)["Principal"] } : s, slots),
            );
            view = { make: (values) => makers.map((m) => m(values)), slots: [...slots] };
        }
    }
    principalViews.set(template, view);
    return view;
}

/** What makes `v` with the slot values a read gives in place of their marks (`slots` gets the slots it reads). */
function maker(v: unknown, slots: Set<number>): (values: readonly string[]) => unknown {
    if (typeof v === "string") {
        if (!v.includes(SLOT_VALUE)) return () => v;
        // Literal text and slot numbers, alternating: "a", 3, "b".
        const parts = v.split(SLOT_VALUE);
        const ids: number[] = [];
        for (let i = 1; i < parts.length; i += 2) {
            const id = Number(parts[i]);
            ids.push(id);
            slots.add(id);
        }
        return (values) => {
            let out = parts[0]!;
            for (let i = 0; i < ids.length; i++) out += values[ids[i]!]! + parts[2 * i + 2]!;
            return out;
        };
    }
    if (v === null || typeof v !== "object") return () => v;
    if (Array.isArray(v)) {
        const items = v.map((x) => maker(x, slots));
        return (values) => items.map((m) => m(values));
    }
    const entries = Object.entries(v).map(([k, x]) => [maker(k, slots), maker(x, slots)] as const);
    return (values) => {
        const out: Record<string, unknown> = {};
        // Own properties, as JSON.parse makes them (a `__proto__` key included).
        for (const [k, x] of entries) putOwn(out, k(values) as string, x(values));
        return out;
    };
}

/**
 * The trust policy of a template read as far as the stack audience check reads it: `{Statement: [...]}`, each
 * statement of the text in its place with only its `Principal`, the read's slot values where the text has them
 * (stack.ts reads a statement's `Principal` and nothing else of it). Made from the template's text parsed once,
 * not from the text's own: the text need not be parsed. Undefined when the template's text cannot be read so. The
 * same values give the same object (the caller does not change it).
 */
export function principalsOfRead(read: TemplateRead): { Statement: unknown[] } | undefined {
    const view = principalView(read.template);
    if (view === null) return undefined;
    const key = view.slots.length === 1 ? read.values[view.slots[0]!]! : view.slots.map((id) => read.values[id]).join("\u0000");
    if (view.last === undefined || view.last.key !== key) view.last = { key, statements: view.make(read.values) };
    return { Statement: view.last.statements };
}

/** A fresh name for slot `j` that holds a `-` exactly when `like` does. */
function freshName(j: number, like: string): string {
    return `qj${j}q${like.includes("-") ? "-n" : ""}`;
}

/**
 * Learns the template of `text`, whose shape analysis is `shape`, on the second time its key is seen. `probe`
 * computes another text's shape key and names the full way. The probes run on the document's time budget: past
 * `deadline` nothing is learned (nor remembered as unusable, which would depend on the machine's load).
 */
export function learnTemplate(text: string, options: AnalysisOptions, shape: LearnedShape, probe: ShapeProbe, deadline: number): void {
    const state = stateOf(options);
    if (state.lookups <= 1) return;
    const scanned = scanOf(text, state);
    if (scanned === null || state.templates.get(scanned.key) !== undefined) return;
    if (state.seen.get(scanned.key) === undefined) {
        state.seen.set(scanned.key, true);
        return;
    }
    const { values, at } = scanned;
    const slotOf = new Map(values.map((v, j) => [v, j]));
    const whole = shape.names.whole.map((n) => slotOf.get(n) ?? n);
    const globs = shape.names.globs.map((n) => slotOf.get(n) ?? n);
    const isName = new Set<number>();
    for (const x of [...whole, ...globs]) if (typeof x === "number") isName.add(x);
    const fresh = values.map((v, j) => freshName(j, v));
    const agrees = (probed: string): boolean => {
        if (Date.now() > deadline) throw new OutOfTime();
        const r = probe(probed);
        if (r === null || r.key !== shape.key) return false;
        const same = (got: readonly string[], want: ReadonlyArray<string | number>): boolean =>
            got.length === want.length && want.every((x, i) => got[i] === (typeof x === "number" ? fresh[x] : x));
        return same(r.names.whole, whole) && same(r.names.globs, globs);
    };
    let fixed: Array<string | undefined> | null;
    try {
        fixed = slotRoles(values, isName, fresh, (v) => agrees(fill(text, at, v)));
    } catch (e) {
        if (e instanceof OutOfTime) return;
        throw e;
    }
    if (fixed === null) {
        state.templates.set(scanned.key, null);
        return;
    }
    const template: Template = {
        compiled: shape.compiled,
        madeUpSegments: shape.madeUpSegments,
        fixed,
        dash: values.map((v, j) => (isName.has(j) ? v.includes("-") : undefined)),
        whole,
        globs,
        segments: shape.segments,
    };
    keys.set(template, scanned.key);
    state.templates.set(scanned.key, template);
}

/** Thrown by a probe past the deadline. */
class OutOfTime extends Error {}

/**
 * Per slot, the value a text must spell there (fixed) or undefined (a name, or free); null when the names alone do
 * not agree. `agrees` probes the text with the given slot values.
 */
function slotRoles(
    values: readonly string[],
    isName: ReadonlySet<number>,
    fresh: readonly string[],
    agrees: (values: readonly string[]) => boolean,
): Array<string | undefined> | null {
    if (agrees(fresh)) return values.map(() => undefined);
    // Some slot other than a name is read: the names alone must agree; then each other slot is free when it alone
    // can change as well (no part of the shape holds it), and fixed otherwise.
    const names = values.map((v, j) => (isName.has(j) ? fresh[j]! : v));
    if (!agrees(names)) return null;
    const fixed = values.map((v, j) => (isName.has(j) ? undefined : v));
    if (values.length - isName.size <= MAX_SLOT_PROBES) {
        for (let j = 0; j < values.length; j++) {
            if (isName.has(j)) continue;
            const one = [...names];
            one[j] = fresh[j]!;
            if (agrees(one)) fixed[j] = undefined;
        }
    }
    return fixed;
}
