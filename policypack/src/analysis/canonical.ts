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
 * document is analysed as written.
 */
import { classifyKey } from "./conditions.js";
import type { Clause, Statement } from "./document.js";
import type { AnalysisOptions } from "./types.js";

/** Placeholders look like `zqzqw3x`, `zqzqg0x-`; no input may contain the marker. */
const MARKER = "zqzq";
const PLACEHOLDER = /zqzq([wg])(\d+)x(-?)/g;
/** What can be renamed: Pulumi's lowercase name characters (organization names are lowercase). */
const RENAMABLE = /^[a-z0-9_.-]+$/;
/** Every segment the token grammar spells, and the audience prefix: never renamed, never the start of a glob. */
const KEYWORDS: readonly string[] = [
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
const GLUED = ["-evil"] as const;
const KEYWORD_SET = new Set(KEYWORDS);
const SEPARATOR = /([:/])/;

interface Piece {
    /** The whole segment without wildcards, or the literal head before its first wildcard. */
    head: string;
    glob: boolean;
}

export interface Canonical {
    statements: Statement[];
    options: AnalysisOptions;
    /** Reads a string of the renamed analysis back in the original names. */
    unmap: (s: string) => string;
}

/** Whether any string of a statement holds the placeholder marker (it would be read back as a name). */
function mentionsMarker(st: Statement): boolean {
    const has = (x: string): boolean => x.toLowerCase().includes(MARKER);
    return (
        has(st.path) ||
        st.actions.some(has) ||
        st.principal.federated.some(has) ||
        st.clauses.some((c) => has(c.key) || has(c.path) || c.values.some(has))
    );
}

/** The clauses whose values are tokens' aud or sub for some issuer. */
function tokenClauses(statements: readonly Statement[], issuers: readonly string[]): Set<Clause> {
    const out = new Set<Clause>();
    for (const st of statements) {
        for (const c of st.clauses) {
            if (issuers.some((i) => {
                const k = classifyKey(c.key, i);
                return k === "aud" || k === "sub";
            })) out.add(c);
        }
    }
    return out;
}

/**
 * Splits a value into segments; null when a segment's wildcards make σ unsafe (a segment that starts with a
 * wildcard and is not exactly `*`) or when it holds a policy variable.
 */
function pieces(value: string, like: boolean): Piece[] | null {
    if (value.includes("${")) return null;
    const out: Piece[] = [];
    for (const seg of value.split(/[:/]/)) {
        if (!like) {
            out.push({ head: seg, glob: false });
            continue;
        }
        const w = seg.search(/[*?]/);
        if (w < 0) out.push({ head: seg, glob: false });
        else if (w === 0) {
            if (seg !== "*") return null;
        } else out.push({ head: seg.slice(0, w), glob: true });
    }
    return out;
}

/**
 * The renamed document and options, or null when the document must be analysed as written. `issuers` are the
 * normalized issuers the analysis will use.
 */
export function canonicalize(statements: readonly Statement[], options: AnalysisOptions, issuers: readonly string[]): Canonical | null {
    if (statements.some(mentionsMarker)) return null;
    const clauses = tokenClauses(statements, issuers);
    const values: Array<{ value: string; like: boolean }> = [];
    for (const c of clauses) {
        const op = c.operator;
        if (op.family === "null") continue;
        if (op.family !== "string" || op.stringOp?.endsWith("IgnoreCase")) return null;
        const like = op.stringOp === "StringLike" || op.stringOp === "StringNotLike";
        for (const v of c.values) values.push({ value: v, like });
    }
    for (const o of options.organizations ?? []) values.push({ value: o, like: false });
    for (const a of options.audiences ?? []) values.push({ value: a, like: false });
    for (const s of options.allowedSubjects ?? []) values.push({ value: s, like: true });

    const whole = new Map<string, number>();
    const globs = new Map<string, number>();
    const fixed: Array<{ head: string; glob: boolean }> = [];
    for (const { value, like } of values) {
        if (value.toLowerCase().includes(MARKER)) return null;
        const ps = pieces(value, like);
        if (ps === null) return null;
        for (const p of ps) {
            if (p.head.length === 0) continue;
            if (RENAMABLE.test(p.head) && !KEYWORD_SET.has(p.head)) {
                const names = p.glob ? globs : whole;
                if (!names.has(p.head)) names.set(p.head, names.size);
            } else fixed.push(p);
        }
    }
    if (whole.size === 0 && globs.size === 0) return null;
    // σ is a bijection when no segment can be read two ways: glob heads are prefixes of no whole name, keyword,
    // fixed segment, other glob head or placeholder, and no fixed glob head is a prefix of a renamed name.
    const g = [...globs.keys()];
    for (const head of g) {
        if (MARKER.startsWith(head)) return null;
        for (const other of g) if (other !== head && other.startsWith(head)) return null;
        for (const n of whole.keys()) if (n.startsWith(head)) return null;
        for (const k of KEYWORDS) if (k.startsWith(head)) return null;
        for (const f of fixed) if (f.head.startsWith(head)) return null;
    }
    // A candidate glued to a whole name (`acme-evil`) must read back as a string that is no other name's.
    for (const n of whole.keys()) {
        for (const glued of GLUED.map((x) => n + x)) {
            if (whole.has(glued) || KEYWORD_SET.has(glued)) return null;
            for (const head of g) if (glued.startsWith(head) || head.startsWith(n)) return null;
            for (const f of fixed) if (f.head === glued || (f.glob && glued.startsWith(f.head))) return null;
        }
    }
    for (const f of fixed) {
        if (!f.glob) continue;
        for (const n of whole.keys()) if (n.startsWith(f.head)) return null;
        for (const head of g) if (head.startsWith(f.head)) return null;
        if (MARKER.startsWith(f.head.toLowerCase())) return null;
    }

    const wholeNames = [...whole.keys()];
    const placeholder = (kind: "w" | "g", i: number, name: string): string => `${MARKER}${kind}${i}x${name.includes("-") ? "-" : ""}`;
    const renameSegment = (seg: string, like: boolean): string => {
        const w = whole.get(seg);
        if (w !== undefined) return placeholder("w", w, seg);
        if (!like) return seg;
        const star = seg.search(/[*?]/);
        if (star <= 0) return seg;
        const head = seg.slice(0, star);
        const gi = globs.get(head);
        return gi === undefined ? seg : placeholder("g", gi, head) + seg.slice(star);
    };
    const rename = (value: string, like: boolean): string =>
        value
            .split(SEPARATOR)
            .map((part, i) => (i % 2 === 1 ? part : renameSegment(part, like)))
            .join("");

    const renamedStatements = statements.map((st) => ({
        ...st,
        clauses: st.clauses.map((c) => {
            if (!clauses.has(c) || c.operator.family !== "string") return c;
            const like = c.operator.stringOp === "StringLike" || c.operator.stringOp === "StringNotLike";
            return { ...c, values: c.values.map((v) => rename(v, like)) };
        }),
    }));
    const renamedOptions: AnalysisOptions = { ...options };
    if (options.organizations) renamedOptions.organizations = options.organizations.map((o) => rename(o, false));
    if (options.audiences) renamedOptions.audiences = options.audiences.map((a) => rename(a, false));
    if (options.allowedSubjects) renamedOptions.allowedSubjects = options.allowedSubjects.map((s) => rename(s, true));

    const globNames = g;
    const unmap = (s: string): string => {
        if (!s.includes(MARKER)) return s;
        return s.replace(PLACEHOLDER, (m: string, kind: string, index: string, dash: string) => {
            const name = (kind === "w" ? wholeNames : globNames)[Number(index)];
            if (name === undefined) return m;
            const hasDash = name.includes("-");
            if (hasDash && dash !== "-") return m;
            return hasDash ? name : name + dash;
        });
    };
    return { statements: renamedStatements, options: renamedOptions, unmap };
}

/** A copy of a JSON-shaped value with every string read back through `unmap`. */
export function mapStrings<T>(value: T, unmap: (s: string) => string): T {
    if (typeof value === "string") return unmap(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, unmap)) as T;
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mapStrings(v, unmap);
        return out as T;
    }
    return value;
}
