/**
 * Documents that differ only in the names they spell (organizations, projects, environments, stacks) get the same
 * analysis: the token grammar treats every name alike (DOMAIN.md §5). `canonicalize` renames each such name to a
 * placeholder, so the trust policies of an estate, which repeat a few shapes with different names, come down to
 * those few shapes; the analysis of a shape is computed once and read back through the inverse renaming.
 *
 * The renaming σ acts on the `:`/`/`-separated segments of every string: a segment equal to a renamed whole name
 * becomes its placeholder; a segment starting with a renamed glob prefix (the literal head of `project-7*`) gets
 * that head replaced. σ is a bijection on strings that fixes every segment the grammar spells (`pulumi`, `env`,
 * `stack`, `aws`, ...) and keeps every character class the grammar uses (a placeholder is lowercase, and holds a `-`
 * exactly when its name does), so σ maps each pattern's language onto the renamed pattern's language and fixes
 * every grammar language: every emptiness, finiteness and confinement question, hence every verdict, rule and blast
 * class, is the same. Counterexamples are read back with the inverse renaming and stay issuable tokens the original
 * admits; they can differ from the ones the original would have printed (another, equally valid, witness). Where σ
 * cannot be shown to be such a bijection (a pattern starting with `?` or `*x`, a policy variable, IgnoreCase
 * operators on aud/sub, names that are prefixes of each other's globs, ...), `canonicalize` returns null and the
 * document is analysed as written. Values of conditions on other keys are left out of the shape: the analysis reads
 * only their keys and operators (and the value of `Null`), and prints none of them.
 */
import { BoundedCache } from "./automata.js";
import { classifyKey } from "./conditions.js";
import type { Clause, Statement } from "./document.js";
import type { AnalysisOptions } from "./types.js";

/** Placeholders look like `zqzqw3x`, `zqzqg0x-`; no input may contain the marker. */
export const MARKER = "zqzq";
const PLACEHOLDER = /zqzq([wg])(\d+)x(-?)/g;
const MARKER_ANY_CASE = /zqzq/i;
/** Every segment the token grammar spells, and the audience prefix: never renamed, never the start of a glob. */
export const KEYWORDS: readonly string[] = [
    "pulumi",
    "environments",
    "org",
    "env",
    "deploy",
    "project",
    "stack",
    "operation",
    "preview",
    "update",
    "refresh",
    "destroy",
    "scope",
    "write",
    "cmk",
    "pulumi.organization.login",
    "aws",
    "currentEnvironment.name",
    "rootEnvironment.name",
    "<yaml>",
    // The words trust-policy.ts's counterexample candidates spell (buildSubCandidates, buildAudCandidates): a
    // renamed name equal to one would let a candidate that is another name in the renamed analysis read back as
    // that name.
    "evil-org",
    "evil",
    "other",
    "other-evil",
    "prod",
    "roll",
    "x",
    "estroy",
    "mallory",
    "future-kind",
    "pulumi.user.login",
];
/** Text the candidates glue to a whole name (`aws:<org>-evil`). */
export const GLUED = ["-evil"] as const;
const KEYWORD_SET = new Set(KEYWORDS);
/** Documents naming more distinct names than this are analysed as written (the renaming's checks are pairwise). */
const MAX_RENAMED_NAMES = 512;
/** Likewise for distinct segments that are not names (each is compared with every name). */
const MAX_FIXED_SEGMENTS = 4096;

/** The names a renaming gave placeholders, by placeholder index: what a renamed analysis is read back with. */
export interface Names {
    whole: readonly string[];
    globs: readonly string[];
}

export interface Canonical {
    statements: Statement[];
    options: AnalysisOptions;
    names: Names;
    /** The segments of the token values and options that were not renamed. */
    fixed: FixedSegments;
}

/** Whether any string of a statement holds the placeholder marker (it would be read back as a name). */
function mentionsMarker(st: Statement): boolean {
    const has = (x: string): boolean => MARKER_ANY_CASE.test(x);
    return (
        has(st.path) ||
        st.actions.some(has) ||
        st.principal.federated.some(has) ||
        st.clauses.some((c) => has(c.key) || has(c.path) || c.values.some(has))
    );
}

/** A placeholder inside a string of a renamed analysis. */
interface Slot {
    glob: boolean;
    index: number;
    /** The placeholder is followed by `-` (its name's own, or text after it). */
    dash: boolean;
    text: string;
}

/** A string of a renamed analysis split at its placeholders. */
function slotsOf(s: string): ReadonlyArray<string | Slot> {
    const out: Array<string | Slot> = [];
    let last = 0;
    for (const m of s.matchAll(PLACEHOLDER)) {
        if (m.index > last) out.push(s.slice(last, m.index));
        out.push({ glob: m[1] === "g", index: Number(m[2]), dash: m[3] === "-", text: m[0] });
        last = m.index + m[0].length;
    }
    if (last < s.length) out.push(s.slice(last));
    return out;
}

/** A split string read back with `names`. Joined, not concatenated: a flat string, not a rope of parts. */
function readSlots(parts: ReadonlyArray<string | Slot>, names: Names): string {
    const out = new Array<string>(parts.length);
    for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        if (typeof part === "string") {
            out[i] = part;
            continue;
        }
        const name = (part.glob ? names.globs : names.whole)[part.index];
        if (name === undefined || (name.includes("-") && !part.dash)) out[i] = part.text;
        else out[i] = name.includes("-") ? name : part.dash ? `${name}-` : name;
    }
    return out.join("");
}

/** A string of a renamed analysis that holds placeholders, split once. */
class SlottedText {
    /** Where its reading is kept during one read-back when the string occurs more than once, else -1. */
    memo = -1;
    constructor(readonly parts: ReadonlyArray<string | Slot>) {}
}
class PlanArray {
    /** Where its copy is kept during one read-back when the analysis holds the array in more than one place, else -1. */
    memo = -1;
    constructor(readonly items: readonly Plan[]) {}
}
class PlanObject {
    /** As {@link PlanArray.memo}. */
    memo = -1;
    constructor(
        readonly keys: readonly string[],
        readonly values: readonly Plan[],
    ) {}
}
type Plan = string | number | boolean | null | undefined | SlottedText | PlanArray | PlanObject;

/**
 * A renamed analysis (a JSON-shaped value) compiled for reading back: its strings that hold placeholders split at
 * them once, every other string kept as it is. The analysis of a shape is read back for every role of that shape;
 * compiled, a read-back neither searches each string for the marker nor splits it again.
 */
export interface ReadBack {
    readonly plan: Plan;
    /** How many of its strings occur more than once (a finding's blast radius repeats in each finding). */
    readonly repeated: number;
    /** How many of its arrays and objects it holds in more than one place (a statement's findings share its blast radius). */
    readonly shared: number;
}

export function compileReadBack(value: unknown): ReadBack {
    // Equal strings share one split, and those that occur again are read once per read-back. An array or object the
    // value holds in several places is compiled once, and read back as one copy held in the same places.
    const seen = new Map<string, SlottedText>();
    const nodes = new Map<object, PlanArray | PlanObject>();
    let repeated = 0;
    let shared = 0;
    const compile = (v: unknown): Plan => {
        if (typeof v === "string") {
            if (!v.includes(MARKER)) return v;
            let t = seen.get(v);
            if (t === undefined) seen.set(v, (t = new SlottedText(slotsOf(v))));
            else if (t.memo < 0) t.memo = repeated++;
            return t;
        }
        if (v === null || typeof v !== "object") return v as Plan;
        const known = nodes.get(v);
        if (known !== undefined) {
            if (known.memo < 0) known.memo = shared++;
            return known;
        }
        let node: PlanArray | PlanObject;
        if (Array.isArray(v)) node = new PlanArray((v as unknown[]).map(compile));
        else {
            const keys = Object.keys(v);
            node = new PlanObject(keys, keys.map((k) => compile((v as Record<string, unknown>)[k])));
        }
        nodes.set(v, node);
        return node;
    };
    const plan = compile(value);
    return { plan, repeated, shared };
}

/**
 * A fresh copy of the compiled value with every placeholder read back with `names`: every array and object new, so
 * callers may change theirs as they may change an analysis of their own (one the analysis holds in several places,
 * such as the blast radius its findings share, is one new copy held in the same places). With no names, a
 * placeholder reads back as itself: the copy of a document analysed as written.
 */
export function readBack<T>(compiled: ReadBack, names: Names): T {
    const memo = compiled.repeated > 0 ? new Array<string | undefined>(compiled.repeated) : undefined;
    const copies = compiled.shared > 0 ? new Array<unknown>(compiled.shared) : undefined;
    const build = (p: PlanArray | PlanObject): unknown => {
        if (p instanceof PlanArray) {
            const out = new Array<unknown>(p.items.length);
            for (let i = 0; i < out.length; i++) out[i] = copy(p.items[i]);
            return out;
        }
        const out: Record<string, unknown> = {};
        for (let i = 0; i < p.keys.length; i++) out[p.keys[i]!] = copy(p.values[i]);
        return out;
    };
    const copy = (p: Plan): unknown => {
        if (p === null || typeof p !== "object") return p;
        if (p instanceof SlottedText) {
            if (p.memo < 0 || memo === undefined) return readSlots(p.parts, names);
            return (memo[p.memo] ??= readSlots(p.parts, names));
        }
        if (p.memo < 0 || copies === undefined) return build(p);
        return (copies[p.memo] ??= build(p));
    };
    return copy(compiled.plan) as T;
}

/**
 * {@link readBack} of one member of the compiled value (an object): a copy of `compiled`'s `key` read back with
 * `names`, as the whole read-back would hold it; undefined when the value is no object or has no such member.
 */
export function readBackMember<T>(compiled: ReadBack, names: Names, key: string): T | undefined {
    const plan = compiled.plan;
    if (!(plan instanceof PlanObject)) return undefined;
    const at = plan.keys.indexOf(key);
    if (at < 0) return undefined;
    const member = plan.values[at];
    // A literal (a verdict) is itself: no read-back to set up.
    if (member === null || typeof member !== "object") return member as T;
    return readBack<T>({ plan: member, repeated: compiled.repeated, shared: compiled.shared }, names);
}

/** No names: every placeholder reads back as itself. */
export const NO_NAMES: Names = { whole: [], globs: [] };

/**
 * Whether a key names a token's aud or sub for one of the issuers; memoized per issuer set, then per key (keys repeat
 * across roles). Two levels, not one key joined from both: a condition key read from JSON comes with its hash
 * computed, and a joined key would be a new string to hash for every clause of every role.
 */
const TOKEN_KEY_MEMO_ENTRIES = 4096;
const ISSUER_SETS = 64;
const tokenKeyMemo = new BoundedCache<string, BoundedCache<string, boolean>>(ISSUER_SETS);

function isTokenKey(key: string, issuers: readonly string[], issuersKey: string): boolean {
    let memo = tokenKeyMemo.get(issuersKey);
    if (memo === undefined) {
        memo = new BoundedCache<string, boolean>(TOKEN_KEY_MEMO_ENTRIES);
        tokenKeyMemo.set(issuersKey, memo);
    }
    let known = memo.get(key);
    if (known === undefined) {
        known = issuers.some((i) => {
            const k = classifyKey(key, i);
            return k === "aud" || k === "sub";
        });
        memo.set(key, known);
    }
    return known;
}

const COLON = 0x3a;
const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;

/** Whether a character code is one of Pulumi's lowercase name characters: `[a-z0-9_.-]`. */
export function isNameChar(c: number): boolean {
    return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d;
}

/** A segment the renaming may replace: Pulumi's lowercase name characters only, and no grammar word. */
function isRenamable(s: string): boolean {
    for (let i = 0; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return false;
    return s.length > 0 && !KEYWORD_SET.has(s);
}

/** The segments of a document's token values (and of the options) that are not renamed. */
export interface FixedSegments {
    /** Whole segments: grammar words, text with other characters. */
    whole: ReadonlySet<string>;
    /** Literal heads of glob segments that are not renamed. */
    heads: ReadonlySet<string>;
}

/**
 * Whether σ, renaming the whole names `wholeNames` (`named` tells whether a string is one) and the glob heads `g`
 * while `fixed` stays, is a bijection: no segment can be read two ways. Glob heads are prefixes of no whole name,
 * keyword, fixed segment, other glob head or placeholder; no fixed glob head is a prefix of a renamed name; and a
 * candidate glued to a whole name (`acme-evil`) reads back as a string that is no other name's.
 */
export function readsOneWay(
    wholeNames: readonly string[],
    named: { has(name: string): boolean },
    g: readonly string[],
    fixed: FixedSegments,
): boolean {
    for (const head of g) {
        if (MARKER.startsWith(head)) return false;
        for (const other of g) if (other !== head && other.startsWith(head)) return false;
        for (const n of wholeNames) if (n.startsWith(head) || head.startsWith(n)) return false;
        for (const k of KEYWORDS) if (k.startsWith(head)) return false;
        for (const f of fixed.whole) if (f.startsWith(head)) return false;
        for (const f of fixed.heads) if (f.startsWith(head) || head.startsWith(f)) return false;
    }
    for (const n of wholeNames) {
        for (const x of GLUED) {
            const glued = n + x;
            if (named.has(glued) || KEYWORD_SET.has(glued) || fixed.whole.has(glued)) return false;
            for (const head of g) if (glued.startsWith(head)) return false;
            for (const f of fixed.heads) if (glued.startsWith(f) || n.startsWith(f)) return false;
        }
    }
    for (const f of fixed.heads) if (MARKER.startsWith(f.toLowerCase())) return false;
    return true;
}

/**
 * The distinct `:`/`/`-separated segments of strings made up in a renamed analysis: what {@link spellsAName} reads of
 * them, split once per shape rather than for every document read back from it.
 */
export function madeUpSegments(made: readonly string[]): readonly string[] {
    const out = new Set<string>();
    for (const m of made) for (const seg of m.split(/[:/]/)) out.add(seg);
    return [...out];
}

/**
 * Whether any of these segments (of strings made up in a renamed analysis, {@link madeUpSegments}) is one of
 * `names`' whole names, or starts with one of its glob heads: read back, such a string would name what the document
 * names.
 */
export function spellsAName(segments: readonly string[], names: Names): boolean {
    if (segments.length === 0) return false;
    const whole = namesIn(names.whole);
    return segments.some((seg) => whole.has(seg) || names.globs.some((head) => seg.startsWith(head)));
}

/**
 * Up to this many names (a document's few) are told apart and looked up in their list, not in a Set or Map made for
 * them, which hashes each name first: read back for every role, that was the cost.
 */
export const FEW_NAMES = 16;

/** `names` as what tells whether a string is one of them ({@link FEW_NAMES}). */
export function namesIn(names: readonly string[]): { has(name: string): boolean } {
    return names.length > FEW_NAMES ? new Set(names) : { has: (name) => names.includes(name) };
}

/** Whether no two of `names` are equal ({@link FEW_NAMES}). */
export function distinctNames(names: readonly string[]): boolean {
    if (names.length > FEW_NAMES) return new Set(names).size === names.length;
    for (let i = 1; i < names.length; i++) for (let j = 0; j < i; j++) if (names[i] === names[j]) return false;
    return true;
}

/**
 * The renamed document and options, or null when the document must be analysed as written. `issuers` are the
 * normalized issuers the analysis will use.
 */
export function canonicalize(statements: readonly Statement[], options: AnalysisOptions, issuers: readonly string[]): Canonical | null {
    if (statements.some(mentionsMarker) || issuers.some((i) => MARKER_ANY_CASE.test(i))) return null;
    const issuersKey = issuers.join("\n");
    // Segments of every value: whole names, glob heads (the literal text before a segment's first wildcard), and
    // the fixed rest (grammar words, text with other characters).
    const whole = new Map<string, number>();
    const globs = new Map<string, number>();
    // Sets: a value list repeats its fixed segments (`aws` in every `aws:<org>`).
    const fixedWhole = new Set<string>();
    const fixedHeads = new Set<string>();
    /**
     * Reads one value's segments; false when the document cannot be renamed. That includes passing a limit, which is
     * checked value by value: a policy of 150,000 names is refused after 513 of them, not after collecting them all
     * (0.2 s that no time budget could interrupt).
     */
    const collect = (text: string, like: boolean): boolean => {
        if (text.includes("${") || MARKER_ANY_CASE.test(text)) return false;
        let start = 0;
        let star = -1;
        for (let i = 0; i <= text.length; i++) {
            const c = i < text.length ? text.charCodeAt(i) : COLON;
            if (c === COLON || c === SLASH) {
                if (star === start) {
                    // A segment that starts with a wildcard: only `*` alone keeps σ exact.
                    if (i - start !== 1 || text.charCodeAt(start) !== STAR) return false;
                } else if (star > start) {
                    const head = text.slice(start, star);
                    if (isRenamable(head)) {
                        if (!globs.has(head)) globs.set(head, globs.size);
                    } else fixedHeads.add(head);
                } else if (i > start) {
                    const seg = text.slice(start, i);
                    if (isRenamable(seg)) {
                        if (!whole.has(seg)) whole.set(seg, whole.size);
                    } else fixedWhole.add(seg);
                }
                start = i + 1;
                star = -1;
            } else if (like && star < 0 && (c === STAR || c === QUESTION)) star = i;
        }
        // The checks below compare names pairwise. A document that names this many is no template an estate repeats:
        // analysed as written (and bounded by the analysis budget), not renamed in quadratic time.
        return whole.size + globs.size <= MAX_RENAMED_NAMES && fixedWhole.size + fixedHeads.size <= MAX_FIXED_SEGMENTS;
    };
    const tokenClauses = new Set<Clause>();
    for (const st of statements) {
        for (const c of st.clauses) {
            if (!isTokenKey(c.key, issuers, issuersKey)) continue;
            tokenClauses.add(c);
            const op = c.operator;
            if (op.family === "null") continue;
            if (op.family !== "string" || op.stringOp?.endsWith("IgnoreCase")) return null;
            const like = op.stringOp === "StringLike" || op.stringOp === "StringNotLike";
            for (const v of c.values) if (!collect(v, like)) return null;
        }
    }
    for (const o of options.organizations ?? []) if (!collect(o, false)) return null;
    for (const a of options.audiences ?? []) if (!collect(a, false)) return null;
    for (const v of options.allowedSubjects ?? []) if (!collect(v, true)) return null;

    const g = [...globs.keys()];
    const wholeNames = [...whole.keys()];
    const fixed: FixedSegments = { whole: fixedWhole, heads: fixedHeads };
    if (!readsOneWay(wholeNames, whole, g, fixed)) return null;

    const dash = (name: string): string => (name.includes("-") ? "-" : "");
    const wholePlaceholders = wholeNames.map((n, i) => `${MARKER}w${i}x${dash(n)}`);
    const globPlaceholders = g.map((n, i) => `${MARKER}g${i}x${dash(n)}`);
    const rename = (text: string, like: boolean): string => {
        let out = "";
        let start = 0;
        let star = -1;
        for (let i = 0; i <= text.length; i++) {
            const c = i < text.length ? text.charCodeAt(i) : COLON;
            if (c === COLON || c === SLASH) {
                const seg = text.slice(start, i);
                if (star > start) {
                    const gi = globs.get(text.slice(start, star));
                    out += gi === undefined ? seg : globPlaceholders[gi]! + text.slice(star, i);
                } else {
                    const wi = star < 0 ? whole.get(seg) : undefined;
                    out += wi === undefined ? seg : wholePlaceholders[wi]!;
                }
                if (i < text.length) out += text[i];
                start = i + 1;
                star = -1;
            } else if (like && star < 0 && (c === STAR || c === QUESTION)) star = i;
        }
        return out;
    };

    const renamedStatements = statements.map((st) => ({
        ...st,
        clauses: st.clauses.map((c) => {
            // Values on other keys (another provider's claims, global context keys) never decide anything but
            // `Null` (conditionBox): left out of the shape, so `repo:acme/app-7:*` roles share one analysis too.
            if (!tokenClauses.has(c)) return c.operator.family === "null" ? c : { ...c, values: [] };
            if (c.operator.family !== "string") return c;
            const like = c.operator.stringOp === "StringLike" || c.operator.stringOp === "StringNotLike";
            return { ...c, values: c.values.map((v) => rename(v, like)) };
        }),
    }));
    const renamedOptions: AnalysisOptions = { ...options };
    if (options.organizations) renamedOptions.organizations = options.organizations.map((o) => rename(o, false));
    if (options.audiences) renamedOptions.audiences = options.audiences.map((a) => rename(a, false));
    if (options.allowedSubjects) renamedOptions.allowedSubjects = options.allowedSubjects.map((v) => rename(v, true));

    const names: Names = { whole: wholeNames, globs: g };
    return { statements: renamedStatements, options: renamedOptions, names, fixed };
}
