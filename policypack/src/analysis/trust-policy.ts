/**
 * Which Pulumi tokens a trust policy admits, and whether each admitting statement pins `aud` and `sub`.
 *
 * The admitted set of one issuer is a union of boxes (one per Allow statement: aud-language × sub-language)
 * minus the boxes of the Deny statements. Each Allow box is split into disjoint cells by which Denies a token
 * escapes through its aud and which through its sub; every question (is anything admitted, is an audience
 * outside the allowed ones admitted, are the subjects confined) is then an emptiness or finiteness question on
 * products of automata, decided exactly. See docs/analysis.md.
 */
import { Alphabet, BoundedCache, Budget, ComplexityError, Decider, LazyDfa, NONE, OTHER, and, finite, leaf, not, orOf, rx, sharedAlphabetFor, sharedPatternDfa, type Automaton, type Lang, type Rx } from "./automata.js";
import { NO_NAMES, canonicalize, compileReadBack, madeUpSegments, readBack, spellsAName, type Names, type ReadBack } from "./canonical.js";
import { analysisFromTemplate, learnTemplate } from "./templates.js";
import { classifyKey, conditionBox, globRx, isWebIdentityKey, shown, valuesLang, type Box } from "./conditions.js";
import { DEFAULT_ISSUERS, WEB_IDENTITY_ACTION } from "./constants.js";
import { PolicyDocumentError, actionMatches, parseDocument, type Clause, type Statement } from "./document.js";
import {
    BLAST_CLASSES,
    DEPLOY_OPERATIONS,
    audienceUniverse,
    audiencesNamingOrgs,
    isOrgName,
    issuerKind,
    orgOfAnyAudience,
    orgOfAudience,
    orgOfSubject,
    otherKindSubjects,
    subjectUniverse,
    subjectsNamingOrgs,
    tokenVariants,
    type BlastClass,
    type IssuerKind,
    type TokenKind,
    type Variant,
} from "./grammar.js";
import { matchFederated, normalizeIssuer, parseProviderArn } from "./principal.js";
import { rule, type RuleId } from "./rules.js";
import type {
    AdmittedKind,
    AdmittedSet,
    AnalysisOptions,
    BlastEntry,
    Finding,
    FindingLocation,
    PulumiToken,
    SubjectScope,
    TrustAnalysis,
} from "./types.js";
import { findUnknowns } from "./unknowns.js";

export { PolicyDocumentError } from "./document.js";

const DEFAULT_MAX_STATES = 250_000;
/** Default time budget per document (ms): ordinary policies take a few ms; past this the verdict is `error`. */
export const DEFAULT_TIME_BUDGET_MS = 2_000;
/** How many literal audiences of one cell are enumerated before they are treated as unbounded. */
const AUDIENCE_ENUMERATION_CAP = 256;
/**
 * The states the search for a Deployments stack admitted for two operations may make (an informational blast class,
 * looked for after the verdict is decided), besides half of what the budget has left: past it the class is left
 * out, with a note, rather than the analysis failing closed for want of it. 900 stacks named by pattern take 57,000
 * (110 ms).
 */
const OPERATIONS_SEARCH_STATES = 100_000;
/** How many exact subjects the positive evidence lists before it shows the patterns instead. */
const SUBJECT_LISTING_CAP = 64;

interface Config {
    orgs: string[];
    /** Allowed audiences, or null when neither organizations nor audiences are configured. */
    allowedAudiences: string[] | null;
    allowedSubjects: string[] | null;
    issuers: string[];
    subjectScope: SubjectScope;
}

function resolveConfig(options: AnalysisOptions): Config {
    const orgs = [...new Set((options.organizations ?? []).filter((o) => o.length > 0))];
    const audiences = (options.audiences ?? []).filter((a) => a.length > 0);
    const allowedAudiences =
        audiences.length > 0 ? [...new Set(audiences)] : orgs.length > 0 ? orgs.flatMap((o) => [o, `aws:${o}`]) : null;
    const subjects = options.allowedSubjects?.filter((s) => s.length > 0) ?? [];
    const issuers = [...new Set((options.issuers?.length ? options.issuers : DEFAULT_ISSUERS).map(normalizeIssuer))];
    return {
        orgs,
        allowedAudiences,
        allowedSubjects: subjects.length > 0 ? subjects : null,
        issuers,
        subjectScope: options.subjectScope ?? "project",
    };
}

// ---------------------------------------------------------------------------------------------------------------

function errorResult(message: string, path: string, statementIndex?: number): TrustAnalysis {
    const meta = rule("oidc-trust-document-valid");
    const location: FindingLocation = statementIndex === undefined ? {} : { statementIndex };
    return {
        verdict: "error",
        findings: [
            {
                ruleId: meta.id,
                severity: meta.severity,
                message: path ? `${path}: ${message}` : message,
                path,
                location,
                remediation: meta.remediation,
                counterexample: null,
            },
        ],
        notes: [],
        admitted: [],
        usableFromPulumi: false,
    };
}

function unknownResult(paths: string[]): TrustAnalysis {
    const meta = rule("oidc-trust-unknown-at-preview");
    const where = paths.map((p) => p || "(the whole document)").join(", ");
    return {
        verdict: "unknown",
        findings: [
            {
                ruleId: meta.id,
                severity: meta.severity,
                message: `the trust policy cannot be verified during preview; enforced at update (unknown at ${where})`,
                path: paths[0] ?? "",
                location: {},
                remediation: meta.remediation,
                counterexample: null,
            },
        ],
        notes: [],
        admitted: [],
        usableFromPulumi: false,
        unknownPaths: paths,
    };
}

/**
 * Analyzes a trust policy (a JSON string or an already decoded object). Never throws: malformed input gives
 * verdict `error`, values unknown at preview give verdict `unknown`. A caller that decoded the object from a JSON
 * text itself may pass that `text` too (it must be the text the object was read from): the analysis then finds or
 * learns the text's template with it, as for a document given as text.
 */
export function analyzeTrustPolicy(doc: unknown, options: AnalysisOptions = {}, text?: string): TrustAnalysis {
    // A text is first looked up among the templates of texts seen before (templates.ts).
    const source = typeof doc === "string" ? doc : text;
    if (source !== undefined) {
        const templated = analysisFromTemplate(source, options);
        if (templated !== undefined) return templated;
    }
    const deadline = deadlineOf(options);
    const parsed = parse(doc);
    return Array.isArray(parsed) ? analyzeShape(parsed, options, deadline, source) : parsed;
}

/**
 * The same analysis without the shape cache or renaming: what `analyzeTrustPolicy` computes for a document seen
 * for the first time with names the grammar spells nowhere else. For tests (the two must agree) and benchmarks.
 */
export function analyzeTrustPolicyAsWritten(doc: unknown, options: AnalysisOptions = {}): TrustAnalysis {
    const deadline = deadlineOf(options);
    const parsed = parse(doc);
    return Array.isArray(parsed) ? analyzeStatements(parsed, options, deadline) : parsed;
}

/**
 * When the document's time budget runs out: counted from the call, so reading the document and renaming its names
 * (linear, but 0.3 s for a policy of 150,000 values) and a second analysis as written share the one budget.
 */
function deadlineOf(options: AnalysisOptions): number {
    return Date.now() + (options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
}

/** The document's statements, or the result that ends the analysis (malformed: `error`; unknown: `unknown`). */
function parse(doc: unknown): Statement[] | TrustAnalysis {
    let value = doc;
    if (typeof doc === "string") {
        const unknown = findUnknowns(doc);
        if (unknown.length > 0) return unknownResult(unknown);
        try {
            value = JSON.parse(doc) as unknown;
        } catch (e) {
            return errorResult(`not valid JSON: ${(e as Error).message}`, "");
        }
    }
    // A sentinel in the parsed text was in the text, unless the text spelled it with `\u` escapes.
    const unknown = typeof doc === "string" && !doc.includes("\\u") ? [] : findUnknowns(value);
    if (unknown.length > 0) return unknownResult(unknown);
    try {
        return parseDocument(value);
    } catch (e) {
        if (e instanceof PolicyDocumentError) return errorResult(e.message, e.path, e.statementIndex);
        throw e;
    }
}

/** Analyses of document shapes (names renamed away), least recently used dropped first. */
const SHAPE_CACHE_ENTRIES = 2048;
/** Shapes longer than this (as JSON) are analysed without the cache: large documents rarely repeat. */
const SHAPE_KEY_MAX_CHARS = 16 * 1024;
/** Each shape's analysis, never handed out itself: callers get copies. */
const shapes = new BoundedCache<string, ShapeAnalysis>(SHAPE_CACHE_ENTRIES);
let defaultIssuers: string[] | undefined;

/**
 * Analyses the document's shape (canonical.ts): the names renamed to placeholders, the analysis of that shape
 * taken from the cache or computed once, and read back in the document's names. A document σ cannot rename is
 * cached as written. Results that ran out of budget (`error`) are not cached: they depend on the machine's load.
 */
function analyzeShape(statements: Statement[], options: AnalysisOptions, deadline: number, text?: string): TrustAnalysis {
    const issuers = issuersOf(options);
    const canon = canonicalize(statements, options, issuers);
    const shape = canon ?? { statements, options };
    const key = shapeKey(shape.statements, shape.options);
    const cacheable = key.length <= SHAPE_KEY_MAX_CHARS;
    let known = cacheable ? shapes.get(key) : undefined;
    if (known === undefined) {
        known = runAnalysis(shape.statements, shape.options, deadline);
        if (!canon && (!cacheable || known.result.verdict === "error")) return known.result;
        if (cacheable && known.result.verdict !== "error") shapes.set(key, known);
    }
    // A member the witness search made up in the shape's names may spell one of this document's own names, which
    // the shape does not hold (it holds placeholders): read back, it would mean another token. Analysed as written.
    if (canon && spellsAName(known.madeUpSegments, canon.names)) return analyzeStatements(statements, options, deadline);
    // Compiled once per shape, read back for every document of it (a document as written reads back as itself).
    const compiled = (known.compiled ??= compileReadBack(known.result));
    const out = readBack<TrustAnalysis>(compiled, canon ? canon.names : NO_NAMES);
    if (canon) {
        // Sorted in the original names, as an uncached analysis sorts them.
        for (const a of out.admitted) a.audiences?.sort();
        if (text !== undefined && cacheable && known.result.verdict !== "error") {
            const learned = { key, names: canon.names, segments: canon.fixed, compiled, madeUpSegments: known.madeUpSegments };
            learnTemplate(text, options, learned, (probe) => probeShape(probe, options, issuers), deadline);
        }
    }
    return out;
}

/** The normalized issuers of the options (the default issuers when none are given). */
function issuersOf(options: AnalysisOptions): string[] {
    return options.issuers?.length
        ? [...new Set(options.issuers.map(normalizeIssuer))]
        : (defaultIssuers ??= [...new Set(DEFAULT_ISSUERS.map(normalizeIssuer))]);
}

/** A text's shape key and names, computed the full way; null when it is not JSON, not a policy, or not renamed. */
function probeShape(text: string, options: AnalysisOptions, issuers: readonly string[]): { key: string; names: Names } | null {
    let statements: Statement[];
    try {
        statements = parseDocument(JSON.parse(text) as unknown);
    } catch {
        return null;
    }
    const canon = canonicalize(statements, options, issuers);
    return canon === null ? null : { key: shapeKey(canon.statements, canon.options), names: canon.names };
}

/**
 * The cache key of a shape: every field of the statements the analysis reads, as arrays (the operator's other
 * fields follow from how it is written), and the options. Equal keys, equal analyses.
 */
function shapeKey(statements: readonly Statement[], options: AnalysisOptions): string {
    const parts: unknown[] = [options];
    for (const st of statements) {
        const p = st.principal;
        parts.push(st.index, st.path, st.effect, p.kind, p.star, p.awsStar, p.federated, st.actions, st.notAction, st.clauses.length);
        for (const c of st.clauses) parts.push(c.operator.written, c.key, c.path, c.values, c.variables);
    }
    return JSON.stringify(parts);
}

function analyzeStatements(statements: Statement[], options: AnalysisOptions, deadline: number): TrustAnalysis {
    return runAnalysis(statements, options, deadline).result;
}

/** An analysis, and the segments of the members its witness search made up (see `Decider.madeUp`). */
interface ShapeAnalysis {
    result: TrustAnalysis;
    /** {@link madeUpSegments} of the made-up members. */
    madeUpSegments: readonly string[];
    /** The result compiled for reading back, made on the first read-back. */
    compiled?: ReadBack;
}

function runAnalysis(statements: Statement[], options: AnalysisOptions, deadline: number): ShapeAnalysis {
    try {
        // Inside the try: building the configured subjects' automaton already runs on the analysis's budget.
        const analysis = new Analysis(statements, resolveConfig(options), options.maxStates ?? DEFAULT_MAX_STATES, options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS, deadline);
        const result = analysis.run();
        return { result, madeUpSegments: madeUpSegments(analysis.madeUp) };
    } catch (e) {
        if (e instanceof ComplexityError) {
            return { result: errorResult(`${e.message}; split the policy or simplify its patterns`, ""), madeUpSegments: [] };
        }
        throw e;
    }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * The tokens of one issuer. An account has one IAM OIDC provider per issuer URL and a role can only use its own
 * account's, so every provider ARN of the issuer that a trust policy names is read as that one provider.
 */
interface Unit {
    issuer: string;
    kind: IssuerKind;
}

interface Cell {
    aud: Lang;
    sub: Lang;
}

/** The tokens of one kind (one variant of it) that one cell admits. */
interface KindSet {
    /** null for another or future kind (`other`) and for v2 tokens. */
    variant: Variant | null;
    kind: TokenKind;
    subs: Lang;
    cell: Cell;
}

const COLON = ":".charCodeAt(0) - 0x20;
const ORG_SYMBOLS = new Set(Array.from("abcdefghijklmnopqrstuvwxyz0123456789_.-", (c) => c.charCodeAt(0) - 0x20));

/**
 * The subjects of one variant whose paired audience the cell admits: `<prefix><org>` then `:` or the end, where
 * `<audPrefix><org>` is in the audience language. Built when the audiences are unboundedly many (a wildcard);
 * literal audiences take the cheap path (subjectsNamingOrgs). Organization names hold no `:`, so the organization
 * ends at the first `:` after the prefix and the audience automaton runs alongside while it is read.
 */
class OrgPaired implements Automaton {
    readonly start = 0;
    private readonly prefix: number[];
    private readonly dead: number;
    private readonly free: number;
    private readonly a0: number;

    constructor(
        prefix: string,
        audPrefix: string,
        private readonly aud: Automaton,
        alphabet: Alphabet,
        private readonly width: number,
    ) {
        this.prefix = Array.from(prefix, (c) => alphabet.lookup(c));
        this.dead = this.prefix.length;
        this.free = this.prefix.length + 1;
        let a = aud.start;
        for (const c of audPrefix) a = aud.step(a, alphabet.lookup(c));
        this.a0 = a;
    }

    private org(a: number, nonEmpty: boolean): number {
        return this.prefix.length + 2 + 2 * a + (nonEmpty ? 1 : 0);
    }

    step(s: number, sym: number): number {
        const n = this.prefix.length;
        if (s < n) {
            if (sym !== this.prefix[s]) return this.dead;
            return s + 1 === n ? this.org(this.a0, false) : s + 1;
        }
        if (s === this.dead || s === this.free) return s;
        const x = s - n - 2;
        const a = x >> 1;
        const nonEmpty = (x & 1) === 1;
        if (sym === COLON) return nonEmpty && this.aud.accepting(a) ? this.free : this.dead;
        if (sym !== OTHER && !ORG_SYMBOLS.has(sym)) return this.dead;
        return this.org(this.aud.step(a, sym >= this.width ? OTHER : sym), true);
    }

    accepting(s: number): boolean {
        if (s === this.free) return true;
        const n = this.prefix.length;
        if (s < n + 2) return false;
        const x = s - n - 2;
        return (x & 1) === 1 && this.aud.accepting(x >> 1);
    }

    sink(s: number): "dead" | "universal" | null {
        return s === this.dead ? "dead" : s === this.free ? "universal" : null;
    }
}

function isWildcard(s: string): boolean {
    return /[*?]|\$\{/.test(s);
}

function replaceWildcards(pattern: string, filler: string): string {
    return pattern.replace(/\$\{[^}]*\}/g, filler).replace(/\*/g, filler).replace(/\?/g, "x");
}

/** Subjects a wildcard pattern admits, as the witness search tries them first: each wildcard filled alike. */
function fillersOf(pattern: string): string[] {
    // A wildcard that starts a segment reads best as another name; one inside a name, as a longer name.
    const atSegmentStart = /[:/][*?]/.test(pattern);
    const deploy = ":stack:prod:operation:update:scope:write";
    const fillers = atSegmentStart
        ? ["other/prod", "evil", "other-evil", `other${deploy}`, `stack:other:operation:update:scope:write`, `other:operation:update:scope:write`, "x/evil", "x:evil", "destroy", "other"]
        : ["roll/prod", "-evil/prod", "evil", `-evil${deploy}`, "x/evil", "x:evil", "other/prod", "estroy"];
    return fillers.map((f) => replaceWildcards(pattern, f));
}

const KIND_WORDS: Record<TokenKind, string> = {
    esc: "ESC tokens",
    "esc-legacy": "ESC tokens of the legacy default project",
    "esc-inline": "ESC tokens of environments inline in stack config",
    deploy: "Deployments tokens",
    cmk: "Customer Managed Keys tokens",
    other: "tokens of other or future Pulumi kinds",
    v2: "fn::open::oidc tokens",
};

/** A token in words: "a Deployments token for stack acme/core/dev (operation update)". */
export function describeToken(kind: TokenKind, t: PulumiToken): string {
    const m = (re: RegExp): RegExpExecArray | null => re.exec(t.sub);
    switch (kind) {
        case "esc": {
            const e = m(/^pulumi:environments:org:([^:]+):env:([^/]+)\/(.+)$/);
            if (e) return `an ESC token for environment ${e[1]}/${e[2]}/${e[3]}`;
            return describeAttr("an ESC token", t.sub);
        }
        case "esc-legacy": {
            const e = m(/^pulumi:environments:org:([^:]+):env:([^/]+)$/);
            if (e) return `an ESC token for environment ${e[2]} of the legacy default project of ${e[1]} (audience "${t.aud}")`;
            return describeAttr(`an ESC token of the legacy default project (audience "${t.aud}")`, t.sub);
        }
        case "esc-inline": {
            const e = m(/^pulumi:environments:org:([^:]+):/);
            return `an ESC token of any environment defined inline in stack config of ${e?.[1] ?? "the organization"} (shared subject ${SHARED})`;
        }
        case "deploy": {
            const e = m(/^pulumi:deploy:org:([^:]+):project:([^:]+):stack:([^:]+):operation:([^:]+):/);
            return e ? `a Deployments token for stack ${e[1]}/${e[2]}/${e[3]} (operation ${e[4]})` : "a Deployments token";
        }
        case "cmk":
            return `a Customer Managed Keys token of ${t.sub.slice(t.sub.lastIndexOf(":") + 1)}`;
        case "other":
            return `a token of another or future Pulumi kind (audience "${t.aud}", subject "${t.sub}")`;
        case "v2": {
            const e = m(/^pulumi:org:([^:]+):env:(.+)$/);
            return e ? `an fn::open::oidc token for environment id ${e[2]} of organization id ${e[1]}` : "an fn::open::oidc token";
        }
    }
}
const SHARED = "`<yaml>`";

function describeAttr(what: string, sub: string): string {
    const m = /^pulumi:environments:pulumi\.organization\.login:([^:]+)(.*)$/.exec(sub);
    if (!m) return what;
    const pairs: string[] = [];
    const re = /:([^:]+):([^:]+)/g;
    let x: RegExpExecArray | null;
    while ((x = re.exec(m[2]!)) !== null) pairs.push(`${x[1]}=${x[2]}`);
    return `${what} with subject attributes of ${m[1]}${pairs.length > 0 ? ` (${pairs.join(", ")})` : " naming no environment"}`;
}

/** The token kinds a statement's written subject values name (wildcards before the organization name none). */
function pinnedKinds(values: readonly string[]): Set<TokenKind> {
    const out = new Set<TokenKind>();
    for (const v of values) {
        const head = v.split(/[*?]|\$\{/)[0]!;
        if (v.startsWith("pulumi:environments:org:") && /^pulumi:environments:org:[^:]+:env:/.test(head)) {
            const env = v.slice(v.indexOf(":env:") + ":env:".length);
            if (v.endsWith(":env:<yaml>")) out.add("esc-inline");
            else if (isWildcard(env) && !/^[^*?$]*\//.test(env)) {
                // A wildcard before the project/environment separator names any of the ESC forms.
                out.add("esc");
                out.add("esc-legacy");
                out.add("esc-inline");
            }
            else if (/:env:[^/]*\//.test(v)) out.add("esc");
            else out.add("esc-legacy");
        } else if (head.startsWith("pulumi:environments:pulumi.organization.login:")) {
            out.add("esc");
            out.add("esc-legacy");
        } else if (head.startsWith("pulumi:deploy:")) out.add("deploy");
        else if (head.startsWith("pulumi:cmk:")) out.add("cmk");
        else if (head.startsWith("pulumi:org:")) out.add("v2");
        else if (/^pulumi:[a-z]+:/.test(head) && !/^pulumi:(environments|deploy|cmk):/.test(head)) out.add("other");
    }
    return out;
}

/**
 * Per positive, case-sensitive string clause on `sub`: the literal head of each value (up to its first wildcard or
 * policy variable). A subject satisfies the clause only if it starts with one of the heads. Null when there is no
 * such clause.
 */
function literalHeads(box: Box): string[][] | null {
    const out: string[][] = [];
    for (const c of box.subClauses) {
        const op = c.operator;
        if (op.family !== "string" || op.negated || op.stringOp?.endsWith("IgnoreCase")) continue;
        const like = op.stringOp === "StringLike";
        out.push(c.values.map((v) => v.split(like ? /[*?]|\$\{/ : /\$\{/)[0]!));
    }
    return out.length > 0 ? out : null;
}

/** Mandatory subject classes by scope; `other-organization` is the audience rule's. */
function isMandatory(cls: BlastClass, scope: SubjectScope): boolean {
    switch (cls) {
        case "every-project":
        case "shared-inline-environment":
        case "environment-not-pinned":
            return true;
        case "every-environment-of-project":
            return scope === "environment";
        default:
            return false;
    }
}

/**
 * Why a statement's conditions on `key` do not pin it when none of them compares its value (there is none, or only
 * `Null` and operators that are not string operators); null when one does.
 */
function noComparison(clauses: readonly Clause[], key: string): string | null {
    if (clauses.length === 0) return `it has no condition on ${key}`;
    if (clauses.some((c) => c.operator.family === "string")) return null;
    const operators = [...new Set(clauses.map((c) => c.operator.written))].join(", ");
    return `its ${clauses.length === 1 ? "condition" : "conditions"} on ${key} (${operators}) ${clauses.length === 1 ? "does" : "do"} not compare its value`;
}

/** The claim a misspelt one was likely meant to be: the same letters in another order, or one letter off. */
function nearClaim(written: string): string | undefined {
    const claim = written.trim().toLowerCase();
    const sorted = (s: string): string => [...s].sort().join("");
    return ["aud", "sub"].find((k) => claim === k || sorted(claim) === sorted(k) || oneEditApart(claim, k));
}

/** Whether one insertion, deletion or substitution turns `a` into `b`. */
function oneEditApart(a: string, b: string): boolean {
    if (Math.abs(a.length - b.length) > 1) return false;
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1);
    return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

const CLASS_WHY: Record<BlastClass, string> = {
    "other-organization": "it admits tokens of another organization",
    "other-kind": "it admits another kind of token than its subjects name",
    "every-project": "its subject pattern spans projects: unboundedly many projects (or tokens of kinds it cannot scope) get in",
    "shared-inline-environment":
        "`:env:<yaml>` is the subject every environment defined inline in stack config of the organization shares (pulumi/pulumi#14509), so it trusts all of them",
    "environment-not-pinned":
        "its subject-attribute subject pins no environment (no currentEnvironment.name or rootEnvironment.name), so any environment that user or organization opens gets in",
    "every-environment-of-project": "it admits every environment or stack of a project, and subjectScope is \"environment\"",
    "every-operation-of-stack": "it admits every operation of a stack",
};

interface Coverage {
    covers: boolean;
    reading?: string;
    /** The principal is a placeholder that cannot be told apart from this issuer's provider. */
    unresolved?: boolean;
    /**
     * The issuer's providers the statement names, as `<partition>:<account>` of their well-formed ARNs. An Allow's:
     * null when it admits in another way too (`*`, an issuer URL, a placeholder, an account `*`), which names no
     * account. A Deny's, when it applies: the providers it names exactly, or `[]` for Principal "*" (every provider).
     */
    providers?: readonly string[] | null;
}

/**
 * The `<partition>:<account>` of `value` when it is, exactly as IAM writes it, the ARN of `issuer`'s provider in one
 * account (`arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc`); else undefined.
 */
function canonicalProvider(value: string, issuer: string): string | undefined {
    const arn = parseProviderArn(value);
    if (!arn || arn.account === "*" || arn.issuer !== issuer) return undefined;
    return value === `arn:${arn.partition}:iam::${arn.account}:oidc-provider/${issuer}` ? `${arn.partition}:${arn.account}` : undefined;
}

class Analysis {
    private readonly alphabet = new Alphabet();
    private readonly decider: Decider;
    private readonly findings = new Map<string, Finding>();
    private readonly notes: string[] = [];
    private readonly readings: string[] = [];
    private readonly admitted = new Map<
        string,
        { auds: Set<string>; unbounded: boolean; subs: Set<string>; stmts: Set<number>; kinds: Map<TokenKind, AdmittedKind> }
    >();
    private usable = false;
    private inScope = false;
    /** The Allow statements whose principal and action let an issuer in, with that issuer. */
    private readonly scopedAllows: { st: Statement; issuer: string }[] = [];
    private readonly unresolved: number[] = [];
    private readonly allowedAudLang: Lang | null;
    private readonly allowedSubLang: Lang | null;
    /** Organizations tokens may come from: configured, else derived from configured audiences, else null. */
    private readonly allowedOrgs: string[] | null;
    /** Without configured organizations: the first organization the document admits, the one intended. */
    private anchorOrg: string | null = null;
    /** Literal values the document and config mention, for readable counterexamples. */
    private readonly audPatterns: string[] = [];
    private readonly subPatterns: string[] = [];
    private readonly pairedCache = new Map<Lang, Map<string, Lang>>();
    /** The organizations of a `paired` language built from literal audiences. */
    private readonly pairedOrgs = new Map<Lang, string[]>();
    private denyReadings: string[] = [];
    /**
     * The Deny statements that apply to the Allow being checked, by index: reset for each Allow, then those whose
     * principal is "*" or names every provider the Allow trusts and whose conditions some token can meet.
     */
    private denyIndexes: number[] = [];
    /** Allow statements that let tokens in but whose every token a Deny takes away, with those Denies' indexes. */
    private readonly shutByDeny = new Map<Statement, number[]>();

    constructor(
        private readonly statements: Statement[],
        private readonly config: Config,
        maxStates: number,
        timeBudgetMs: number,
        deadline: number,
    ) {
        this.decider = new Decider(this.alphabet, new Budget(maxStates, timeBudgetMs, deadline));
        this.allowedAudLang = config.allowedAudiences ? finite(config.allowedAudiences) : null;
        this.allowedSubLang = config.allowedSubjects ? this.globLanguage(config.allowedSubjects) : null;
        this.allowedOrgs =
            config.orgs.length > 0
                ? config.orgs
                : config.allowedAudiences
                  ? [...new Set(config.allowedAudiences.map(orgOfAudience))]
                  : null;
    }

    /** Allowed subjects through the one glob compiler (under-approximated: a value with a variable allows nothing). */
    private globLanguage(globs: readonly string[]): Lang {
        const ascii = sharedAlphabetFor(globs);
        const alts = globs.map((g) => globRx(g, true, false, "under", ascii ?? this.alphabet)).filter((r): r is Rx => r !== null);
        if (alts.length === 0) return NONE;
        // The same configuration on every document: compiled once per process.
        if (ascii) return leaf(sharedPatternDfa(`allowed:${JSON.stringify(globs)}`, globs, () => rx.altOf(alts), this.decider.budget)!);
        return leaf(new LazyDfa(rx.altOf(alts), this.alphabet.width, OTHER, this.decider.budget));
    }

    /** Members the witness search made up during this analysis. */
    get madeUp(): readonly string[] {
        return this.decider.madeUp;
    }

    run(): TrustAnalysis {
        this.adviseIssuerMismatch();
        for (const issuer of this.config.issuers) {
            const kind = issuerKind(issuer);
            for (const st of this.statements) {
                for (const c of st.clauses) {
                    const k = classifyKey(c.key, issuer);
                    if (k === "aud") for (const v of c.values) this.audPatterns.push(v);
                    if (k === "sub") for (const v of c.values) this.subPatterns.push(v);
                }
            }
            if (kind === "v1") this.adviseOrgCase(issuer);
            const unit: Unit = { issuer, kind };
            // Each Allow with the providers it trusts (`<partition>:<account>`; null when it names no account): a Deny
            // of this issuer applies to it for certain only where it names every one of them (a role can only use its
            // own account's provider, and the document does not say which account that is).
            const allows: Array<{ st: Statement; reading?: string; providers: readonly string[] | null }> = [];
            for (const st of this.statements) {
                if (st.effect !== "Allow" || !actionCovers(st)) continue;
                const cov = this.coverage(st, unit);
                if (cov.unresolved) this.unresolved.push(st.index);
                if (cov.covers) {
                    allows.push({ st, providers: cov.providers ?? null, ...(cov.reading ? { reading: cov.reading } : {}) });
                    this.scopedAllows.push({ st, issuer });
                }
            }
            if (allows.length === 0) continue;
            this.inScope = true;
            const denies: Array<{ st: Statement; box: Box; readings: string[]; providers: ReadonlySet<string> | "all" }> = [];
            const doubtful: string[] = [];
            for (const st of this.statements) {
                if (st.effect !== "Deny" || !actionCovers(st)) continue;
                const cov = this.coverage(st, unit);
                if (cov.reading) doubtful.push(cov.reading);
                if (!cov.covers || cov.providers === undefined || cov.providers === null) continue;
                const box = conditionBox(st, issuer, "under", this.alphabet, this.decider.budget);
                const providers = st.principal.star ? ("all" as const) : new Set(cov.providers);
                // One whose conditions no token meets (or taken as not applying) takes nothing away, but its readings
                // are said all the same.
                denies.push({ st, box, readings: box.readings.map((r) => `Statement[${st.index}] (Deny): ${r}`), providers });
            }
            for (const { st, reading, providers } of allows) {
                this.denyReadings = [...doubtful];
                this.denyIndexes = [];
                const applying: Box[] = [];
                for (const d of denies) {
                    if (d.providers === "all" || (providers !== null && providers.length > 0 && providers.every((p) => (d.providers as ReadonlySet<string>).has(p)))) {
                        for (const r of d.readings) this.denyReadings.push(r);
                        if (d.box.possible) {
                            applying.push(d.box);
                            this.denyIndexes.push(d.st.index);
                        }
                        continue;
                    }
                    const trusted = providers === null || providers.length === 0 ? "a principal that names no account" : providers.map((a) => `the provider of ${a.replace(":", " account ")}`).join(", ");
                    this.denyReadings.push(
                        `Statement[${d.st.index}] is a Deny on ${[...d.providers].map((a) => `the provider of ${a.replace(":", " account ")}`).join(", ")}, not on every provider Statement[${st.index}] trusts (${trusted}); it is assumed not to apply to Statement[${st.index}] (the reading that lets more in)`,
                    );
                }
                for (const r of this.denyReadings) this.readings.push(r);
                this.checkStatement(st, unit, applying, reading);
            }
        }
        if (!this.inScope) {
            this.notes.push("No Allow statement lets a Pulumi OIDC issuer assume this role: out of scope.");
        } else if (!this.usable) {
            this.notes.push(
                "No token Pulumi can issue satisfies this trust policy: the role cannot be assumed from Pulumi (pinned to nothing).",
            );
            this.adviseUnusable();
        }
        const findings = [...this.findings.values()];
        const mandatory = findings.filter((f) => !f.advisory);
        let verdict: TrustAnalysis["verdict"] = mandatory.length > 0 ? "fail" : "pass";
        if (verdict === "pass" && this.unresolved.length > 0) {
            verdict = "unknown";
            const meta = rule("oidc-trust-principal-unresolved");
            for (const i of [...new Set(this.unresolved)]) {
                const st = this.statements[i]!;
                findings.push({
                    ruleId: meta.id,
                    severity: meta.severity,
                    message: `Statement[${i}] trusts a principal that is a placeholder (${st.principal.federated.join(", ")}) and names no issuer's condition keys: it may be a Pulumi provider once resolved, so the role cannot be judged`,
                    path: `${st.path}.${st.principal.kind}`,
                    location: { statementIndex: i },
                    remediation: meta.remediation,
                    counterexample: null,
                });
            }
        }
        const readings = [...new Set(this.readings)];
        return {
            verdict,
            findings,
            notes: this.notes,
            admitted: [...this.admitted.entries()].map(([issuer, a]): AdmittedSet => ({
                issuer,
                audiences: a.unbounded ? null : [...a.auds].sort(),
                subjects: [...a.subs],
                statements: [...a.stmts].sort((x, y) => x - y),
                kinds: [...a.kinds.values()],
            })),
            usableFromPulumi: this.usable,
            ...(readings.length > 0 ? { readings } : {}),
        };
    }

    // ---- principals

    /**
     * Whether `st` applies to the issuer's tokens, and through which providers (`<partition>:<account>` of the ARNs
     * it names exactly as IAM writes them; for an Allow, null when it admits in another way too). A Deny counts only
     * where it certainly applies: Principal "*", or its providers, which must include every provider an Allow trusts
     * to count for that Allow (run). A Deny whose principal IAM may not read as the provider (an upper-case host, a
     * trailing slash, an account `*`) is assumed not to apply, and says so.
     */
    private coverage(st: Statement, unit: Unit): Coverage {
        const p = st.principal;
        const matches = p.federated.map((f) => ({ f, m: matchFederated(f, unit.issuer) }));
        if (st.effect === "Deny") {
            if (p.kind !== "Principal") return { covers: false };
            if (p.star) return { covers: true, providers: [] };
            // The providers it names exactly as IAM writes their ARNs; which Allows it covers is decided per Allow.
            const named = [...new Set(p.federated.map((f) => canonicalProvider(f, unit.issuer)).filter((x): x is string => x !== undefined))];
            if (named.length > 0) return { covers: true, providers: named };
            const doubtful = p.federated.includes("*") ? `Federated "*"` : matches.find((x) => x.m.match !== "no")?.f;
            return doubtful
                ? { covers: false, reading: `Statement[${st.index}] is a Deny whose principal (${doubtful}) may or may not match ${unit.issuer}; it is assumed not to apply (the reading that lets more in)` }
                : { covers: false };
        }
        const exact = p.star || p.awsStar || matches.some((x) => x.m.match === "exact");
        // The accounts it names, when it admits only through well-formed provider ARNs of the issuer.
        const canonical: string[] = [];
        let allCanonical = true;
        for (const x of matches) {
            if (x.m.match !== "exact") continue;
            const c = canonicalProvider(x.f, unit.issuer);
            if (c === undefined) allCanonical = false;
            else canonical.push(c);
        }
        const providers = !p.star && !p.awsStar && canonical.length > 0 && allCanonical ? canonical : null;
        let reading: string | undefined;
        let named = exact;
        if (!named && p.federated.includes("*")) {
            named = true;
            reading = `Statement[${st.index}] has Federated "*", read as admitting every provider's tokens (AWS may refuse it; an Allow is assumed to apply)`;
        }
        if (!named) {
            const r = matches.find((x) => x.m.match === "reading");
            if (r && r.m.match === "reading") {
                named = true;
                reading = `Statement[${st.index}]: ${r.m.reading}`;
            }
        }
        if (!named && matches.some((x) => x.m.match === "unresolved")) {
            const ph = matches.find((x) => x.m.match === "unresolved")!.f;
            if (this.namesIssuerKeys(st, unit.issuer)) {
                named = true;
                reading = `Statement[${st.index}]: the principal "${ph}" is a placeholder; it is read as the ${unit.issuer} provider because the statement's conditions name its keys`;
            } else if (p.kind === "Principal" && !this.namesOtherIssuerKeys(st)) {
                return { covers: false, unresolved: true };
            }
        }
        if (p.kind === "NotPrincipal") return { covers: !named, providers: null };
        // Admitted also through `*`, an issuer URL or a placeholder: no account is named for all of it.
        const only = reading === undefined && !matches.some((x) => x.m.match !== "exact" && x.m.match !== "no") && !p.federated.includes("*");
        const base: Coverage = { covers: named, providers: only ? providers : null };
        return reading ? { ...base, reading } : base;
    }

    private namesIssuerKeys(st: Statement, issuer: string): boolean {
        return st.clauses.some((c) => {
            const k = classifyKey(c.key, issuer);
            return k === "aud" || k === "sub";
        });
    }

    /** Whether a condition names another web-identity provider's claim (`<host>[/path]:<claim>`, not a Pulumi issuer). */
    private namesOtherIssuerKeys(st: Statement): boolean {
        return st.clauses.some((c) => isWebIdentityKey(c.key) && !this.config.issuers.some((i) => c.key.toLowerCase().startsWith(`${i.toLowerCase()}:`)));
    }

    // ---- advisories

    private advise(ruleId: RuleId, st: Statement | null, message: string, clause?: Clause, token?: { t: PulumiToken; kind: TokenKind }): void {
        const key = `${ruleId}/${st?.index ?? "doc"}`;
        if (this.findings.has(key)) return;
        const meta = rule(ruleId);
        const location: FindingLocation = st ? { statementIndex: st.index } : {};
        if (clause) {
            location.operator = clause.operator.written;
            location.conditionKey = clause.key;
        }
        this.findings.set(key, {
            ruleId,
            severity: meta.severity,
            message: token ? `${message}. E.g. ${describeToken(token.kind, token.t)}: iss ${token.t.issuer}, aud "${token.t.aud}", sub "${token.t.sub}".` : `${message}.`,
            path: clause ? clause.path : (st?.path ?? ""),
            location,
            remediation: meta.remediation,
            counterexample: token?.t ?? null,
            ...(token ? { tokenKind: token.kind, tokenDescription: describeToken(token.kind, token.t) } : {}),
            advisory: true,
        });
    }

    /**
     * No token Pulumi issues gets in. Where an Allow statement is shut by a condition on a claim Pulumi's tokens do
     * not carry (a misspelt key such as `api.pulumi.com/oidc:sbu`, another issuer's key), that is said, with the
     * statement and the key; otherwise, and where other statements stay shut for another reason, the usual cause:
     * an audience that is not the one paired with the token kind.
     */
    private adviseUnusable(): void {
        const said: string[] = [];
        let first: { st: Statement; clause: Clause } | undefined;
        const seen = new Set<Statement>();
        for (const { st, issuer } of this.scopedAllows) {
            if (seen.has(st)) continue;
            const clause = conditionBox(st, issuer, "over", this.alphabet, this.decider.budget).shutBy;
            const deniedBy = this.shutByDeny.get(st);
            if (clause) {
                const prefix = `${issuer.toLowerCase()}:`;
                const own = clause.key.toLowerCase().startsWith(prefix);
                const near = own ? nearClaim(clause.key.slice(prefix.length)) : undefined;
                said.push(
                    `Statement[${st.index}]'s ${clause.operator.written} on "${shown(clause.key)}" tests ${own ? "a claim Pulumi's tokens do not carry" : "another issuer's claim, which Pulumi's tokens do not carry"}, so it is never true for them${near ? ` (did you mean "${issuer}:${near}"?)` : ""}`,
                );
                first ??= { st, clause };
            } else if (deniedBy) {
                said.push(`every token Statement[${st.index}] lets in is denied by ${deniedBy.map((i) => `Statement[${i}]`).join(", ")}`);
            } else {
                continue;
            }
            seen.add(st);
        }
        const audiences = "check the audience of the token kind it is meant for (`aws:<org>` for ESC and CMK, `<org>` for Deployments and the legacy default project)";
        const allShut = this.scopedAllows.every(({ st }) => seen.has(st));
        const why = said.length === 0 ? audiences : `${said.join("; ")}${allShut ? "" : `; for the other statements, ${audiences}`}`;
        this.advise(
            "oidc-trust-unusable",
            first?.st ?? null,
            `no token Pulumi issues (of any kind, with its paired audience) satisfies this trust policy: the role cannot be assumed from Pulumi; ${why}`,
            first?.clause,
        );
    }

    /** Condition keys that name a Pulumi issuer on a statement whose principal is another provider: a URL typo? */
    private adviseIssuerMismatch(): void {
        for (const st of this.statements) {
            if (st.effect !== "Allow" || st.principal.kind !== "Principal") continue;
            // Only well-formed ARNs of another provider: a placeholder may still resolve to Pulumi's.
            const others = st.principal.federated
                .filter((f) => this.config.issuers.every((i) => matchFederated(f, i).match === "no"))
                .map((f) => parseProviderArn(f)?.issuer)
                .filter((i): i is string => i !== undefined && !this.config.issuers.includes(i));
            if (others.length === 0 || others.length !== st.principal.federated.length) continue;
            const clause = st.clauses.find((c) => this.config.issuers.some((i) => classifyKey(c.key, i) !== "context" && c.key.toLowerCase().startsWith(`${i.toLowerCase()}:`)));
            if (!clause) continue;
            this.advise(
                "oidc-trust-issuer-mismatch",
                st,
                `Statement[${st.index}] trusts the provider ${others.join(", ")} but its condition key "${clause.key}" names a Pulumi issuer: no Pulumi token gets in through this statement (a provider URL typo?)`,
                clause,
            );
        }
    }

    /** Organization names in aud/sub values that are not lowercase: Pulumi organization names are, so the pin admits nothing. */
    private adviseOrgCase(issuer: string): void {
        for (const st of this.statements) {
            for (const c of st.clauses) {
                if (c.operator.family !== "string" || c.operator.negated || c.operator.stringOp?.endsWith("IgnoreCase")) continue;
                const k = classifyKey(c.key, issuer);
                if (k !== "aud" && k !== "sub") continue;
                for (const v of c.values) {
                    const org =
                        k === "aud"
                            ? orgOfAudience(v)
                            : (/^pulumi:(?:environments:org|deploy:org|environments:pulumi\.organization\.login|cmk:pulumi\.organization\.login):([^:]+)/.exec(v)?.[1] ?? null);
                    if (org === null || isWildcard(org) || !/[A-Z]/.test(org) || !isOrgName(org.toLowerCase())) continue;
                    this.advise(
                        "oidc-trust-org-not-lowercase",
                        st,
                        `Statement[${st.index}]: the organization "${org}" in ${c.key} is not lowercase; Pulumi organization names are lowercase, so this value matches no token (did you mean "${org.toLowerCase()}"?)`,
                        c,
                    );
                }
            }
        }
    }

    // ---- cells and kinds

    /**
     * Splits a box into disjoint cells by how its tokens escape each Deny; empty cells are dropped. The subject
     * side is tested for emptiness only where the split branches (or at the end): along a chain of Denies that
     * constrain only `sub`, an empty intermediate language stays empty to the end, and each test would explore
     * a product of its own.
     */
    private cells(aud: Lang, sub: Lang, denies: Box[], j = 0, subChecked = false): Cell[] {
        if (this.decider.isEmpty(aud)) return [];
        const d = denies[j];
        if (!d) return this.decider.isEmpty(sub) ? [] : [{ aud, sub }];
        const escapesByAud = and(aud, not(d.aud));
        const branches = !this.decider.isEmpty(escapesByAud);
        if (branches && !subChecked && this.decider.isEmpty(sub)) return [];
        return [
            ...(branches ? this.cells(escapesByAud, sub, denies, j + 1, true) : []),
            ...this.cells(and(aud, d.aud), and(sub, not(d.sub)), denies, j + 1, false),
        ];
    }

    /** Subjects of a variant whose paired audience is in `aud`. */
    private paired(v: Variant, aud: Lang): Lang {
        let per = this.pairedCache.get(aud);
        if (!per) {
            per = new Map();
            this.pairedCache.set(aud, per);
        }
        const known = per.get(v.id);
        if (known) return known;
        let result: Lang;
        const auds = this.decider.enumerate(aud, AUDIENCE_ENUMERATION_CAP);
        if (auds !== null) {
            const orgs = new Set<string>();
            for (const a of auds) {
                for (const q of v.audPrefixes) {
                    if (a.startsWith(q) && isOrgName(a.slice(q.length))) orgs.add(a.slice(q.length));
                }
            }
            result = orgs.size > 0 ? subjectsNamingOrgs(v.subPrefix, [...orgs]) : NONE;
            this.pairedOrgs.set(result, [...orgs]);
        } else {
            const product = this.decider.product(this.decider.simplify(aud));
            const width = this.alphabet.width;
            result = orOf(v.audPrefixes.map((q) => leaf(new OrgPaired(v.subPrefix, q, product, this.alphabet, width))));
        }
        per.set(v.id, result);
        return result;
    }

    private kindSets(cell: Cell, box: Box): KindSet[] {
        const out: KindSet[] = [];
        const heads = literalHeads(box);
        for (const v of tokenVariants()) {
            // Cheap and exact: a variant none of whose subjects starts like the statement's values has no token here.
            if (heads && heads.some((clause) => !this.decider.anyPrefixLive(v.sub, clause))) continue;
            const subs = and(cell.sub, v.sub, this.paired(v, cell.aud));
            // The blast radius asks these subjects about their naming levels: one product answers that too.
            if (v.sub.k === "leaf" && v.levels.every((l) => l.key.k === "leaf")) {
                this.decider.prepareConfinement(subs, v.levels.map((l) => ({ form: v.sub, key: l.key })));
            }
            if (!this.decider.isEmpty(subs)) out.push({ variant: v, kind: v.kind, subs, cell });
        }
        const other = and(cell.sub, otherKindSubjects());
        if (!this.decider.isEmpty(other)) out.push({ variant: null, kind: "other", subs: other, cell });
        return out;
    }

    /** One token of a kind set whose subject is in `subs` (a subset of the set's subjects). */
    private tokenOf(unit: Unit, set: KindSet, subs: Lang, org: string | null, audLang: Lang = set.cell.aud): PulumiToken | null {
        const sub = this.decider.pick(subs, this.subCandidates(org));
        return sub === null ? null : this.tokenWith(unit, set, sub, audLang);
    }

    /** The token of a kind set with subject `sub` (one of the set's subjects), or null when no audience pairs with it. */
    private tokenWith(unit: Unit, set: KindSet, sub: string, audLang: Lang): PulumiToken | null {
        if (set.variant) {
            const o = orgOfSubject(set.variant, sub);
            const aud = set.variant.audPrefixes.map((q) => `${q}${o}`).find((a) => this.decider.contains(audLang, a));
            return aud === undefined ? null : { issuer: unit.issuer, aud, sub };
        }
        const aud = this.decider.pick(audLang, this.audCandidates());
        return aud === null ? null : { issuer: unit.issuer, aud, sub };
    }

    // ---- one statement

    private checkStatement(st: Statement, unit: Unit, denies: Box[], principalReading?: string): void {
        const box = conditionBox(st, unit.issuer, "over", this.alphabet, this.decider.budget);
        if (!box.possible) return;
        const aud = and(box.aud, audienceUniverse(unit.kind));
        const sub = and(box.sub, subjectUniverse(unit.kind));
        const cells = this.cells(aud, sub, denies);
        if (cells.length === 0) {
            // Said only when no token gets in at all (the unusable advisory): the Denies took every token away.
            if (denies.length > 0 && this.cells(aud, sub, []).length > 0) this.shutByDeny.set(st, this.denyIndexes);
            return;
        }
        const readings = [...(principalReading ? [principalReading] : []), ...box.readings.map((r) => `Statement[${st.index}]: ${r}`), ...this.denyReadings];
        for (const r of readings) this.readings.push(r);
        if (unit.kind === "v2") {
            this.checkV2(st, unit, box, cells, readings);
            return;
        }
        const sets = cells.flatMap((c) => this.kindSets(c, box));
        if (sets.length > 0) {
            this.usable = true;
            this.recordAdmitted(st, unit, box, cells, sets);
        }
        const pinned = pinnedKinds(box.subClauses.filter((c) => c.operator.family === "string" && !c.operator.negated).flatMap((c) => c.values));
        const blast = this.blastRadius(st.index, unit, sets, pinned, box);
        // A cell whose bad audiences pair with an issuable token is reported first; else the first with any.
        for (const requireToken of [true, false]) for (const cell of cells) this.checkAudience(st, unit, box, cell, blast, readings, requireToken);
        this.checkSubject(st, unit, box, sets, blast, readings);
    }

    /**
     * With no organization configured, the token whose organization is taken as the intended one: the first that the
     * statement's own subject values spell, in the order it writes them (a wildcard filled as the witness search fills
     * it), else any token of the set. Not simply the decider's pick: where no candidate fits, that is the first
     * subject in the order names sort, which the shape cache's renaming changes (a placeholder sorts elsewhere than
     * the name it stands for), and the renamed and as-written analyses then scoped the blast radius to different
     * organizations.
     */
    private anchorToken(unit: Unit, set: KindSet, box: Box): PulumiToken | null {
        for (const clause of box.subClauses) {
            if (clause.operator.family !== "string" || clause.operator.negated) continue;
            for (const value of clause.values) {
                for (const sub of isWildcard(value) ? fillersOf(value) : [value]) {
                    this.decider.budget.tick();
                    if (!this.decider.contains(set.subs, sub)) continue;
                    const t = this.tokenWith(unit, set, sub, set.cell.aud);
                    if (t) return t;
                }
            }
        }
        return this.tokenOf(unit, set, set.subs, null);
    }

    /** Every class of unintended token the kind sets admit, worst first, each with a counterexample. */
    private blastRadius(statement: number, unit: Unit, sets: KindSet[], pinned: Set<TokenKind>, box: Box): BlastRadius {
        const found = new Map<BlastClass, BlastEntry>();
        const deferred: Array<() => void> = [];
        const add = (cls: BlastClass, set: KindSet, subs: Lang, org: string | null, what: (t: PulumiToken) => string, audLang?: Lang): void => {
            if (found.has(cls) || this.decider.isEmpty(subs)) return;
            const t = this.tokenOf(unit, set, subs, org, audLang);
            if (!t) return;
            found.set(cls, { class: cls, description: what(t), counterexample: t, tokenKind: set.kind, tokenDescription: describeToken(set.kind, t) });
        };
        for (const set of sets) {
            const v = set.variant;
            if (!this.allowedOrgs && this.anchorOrg === null) {
                const t = this.anchorToken(unit, set, box);
                if (t) this.anchorOrg = v ? orgOfSubject(v, t.sub) : orgOfAnyAudience(t.aud);
            }
            const orgs = this.allowedOrgs ?? (this.anchorOrg !== null ? [this.anchorOrg] : []);
            const org = orgs[0] ?? null;
            // Subjects paired with literal audiences of allowed organizations only: no other organization, and the
            // set itself is the scoped set (its explored product serves every question below).
            const pairedWith = v ? this.pairedOrgs.get(this.paired(v, set.cell.aud)) : undefined;
            const inside = pairedWith !== undefined && orgs.length > 0 && pairedWith.every((o) => orgs.includes(o));
            if (v && !inside) {
                const outside = and(set.subs, not(subjectsNamingOrgs(v.subPrefix, orgs)));
                if (orgs.length > 0) {
                    add("other-organization", set, outside, "evil-org", (t) => `${KIND_WORDS[set.kind]} of another organization (${orgOfSubject(v, t.sub)})`);
                }
            } else if (!v) {
                const badAud = and(set.cell.aud, not(audiencesNamingOrgs(orgs)));
                if (orgs.length > 0) {
                    add("other-organization", set, set.subs, "evil-org", (t) => `tokens of other or future kinds of another organization (audience "${t.aud}")`, badAud);
                }
            }
            if (pinned.size > 0 && !pinned.has(set.kind)) {
                add("other-kind", set, set.subs, org, () => `${KIND_WORDS[set.kind]}, another kind than the statement's subjects name (${[...pinned].map((k) => KIND_WORDS[k]).join(", ")})`);
            }
            const scoped = v && orgs.length > 0 && !inside ? and(set.subs, subjectsNamingOrgs(v.subPrefix, orgs)) : set.subs;
            if (!v) {
                if (this.decider.isInfinite(scoped)) {
                    add("every-project", set, scoped, org, () => `every token of other or future Pulumi kinds (subjects starting pulumi:) with the admitted audiences`);
                }
                continue;
            }
            if (set.kind === "esc-inline") {
                add("shared-inline-environment", set, scoped, org, (t) => `every environment defined inline in stack config of ${orgOfSubject(v, t.sub)} (one shared subject)`);
            }
            if (v.unpinned) {
                add("environment-not-pinned", set, and(scoped, v.unpinned), org, (t) => `every environment opened by a token whose subject attributes pin no environment (${describeAttr("subject", t.sub)})`);
            }
            let stackInfinite = false;
            // One product answers every level when the forms are single automata; else one question per level.
            const single = v.sub.k === "leaf" && v.levels.every((l) => l.key.k === "leaf");
            const keyed = single
                ? this.decider.confinement(scoped, v.levels.map((l) => ({ form: v.sub, key: l.key }))).keyed
                : this.decider.keysInfiniteEach(scoped, v.levels.map((l) => l.key));
            for (const [i, level] of v.levels.entries()) {
                if (!keyed[i]) continue;
                if (level.cls === "every-environment-of-project") stackInfinite = true;
                if (level.cls === "every-project") stackInfinite = true;
                add(level.cls, set, scoped, org, (t) => this.levelWords(level.cls, set.kind, t));
            }
            if (set.kind === "deploy" && !stackInfinite) {
                // Informational, and it may explore the whole set: done only when a finding reports the radius, within
                // an allowance of states. Its token is the member found itself, so it does not depend on what was
                // asked in between.
                deferred.push(() => {
                    if (found.has("every-operation-of-stack")) return;
                    const group = this.decider.budget.within(OPERATIONS_SEARCH_STATES, () => this.operationsOfOneStack(scoped));
                    if (group === undefined) {
                        this.notes.push(`Statement[${statement}]: whether one Deployments stack is admitted for more than one operation (the informational blast class every-operation-of-stack) was not decided within its allowance (at most ${OPERATIONS_SEARCH_STATES.toLocaleString("en-US")} automaton states, and half of the states and time the document's budget had left); the blast radius does not list it.`);
                        return;
                    }
                    if (group.length > 1) {
                        // The operations come in DEPLOY_OPERATIONS order: the last is destroy whenever it is admitted.
                        const pick = group[group.length - 1]!;
                        add("every-operation-of-stack", set, finite([pick]), org, (t) => `${group.length} operations of one stack (${describeToken("deploy", t)})`);
                    }
                });
            }
        }
        return new BlastRadius(found, deferred);
    }

    /**
     * The members of one stack that the Deployments subjects admit more than one operation of, each operation it
     * takes, in `DEPLOY_OPERATIONS` order; empty when no stack takes two. The stack is the shortest (then readable
     * first) after which two operations' endings complete members (`Decider.prefixCompletedBy`): decided on the set
     * itself, not by listing it. A list of 65 stacks with `operation:*` is more members than a listing holds (256), and
     * the class was then silently absent.
     */
    private operationsOfOneStack(subs: Lang): string[] {
        const endings = DEPLOY_OPERATIONS.map((op) => `${op}:scope:write`);
        const stack = this.decider.prefixCompletedBy(subs, endings, 2);
        return stack === null ? [] : endings.map((ending) => stack + ending).filter((m) => this.decider.contains(subs, m));
    }

    private levelWords(cls: BlastClass, kind: TokenKind, t: PulumiToken): string {
        const esc = /^pulumi:environments:org:([^:]+):env:([^/]+)\//.exec(t.sub);
        const dep = /^pulumi:deploy:org:([^:]+):project:([^:]+):/.exec(t.sub);
        const attr = /(?:current|root)Environment\.name:([^/:]+)\//.exec(t.sub);
        const org = /^pulumi:[a-z]+:(?:org|pulumi\.organization\.login):([^:]+)/.exec(t.sub)?.[1] ?? "the organization";
        if (cls === "every-project") {
            return kind === "deploy" ? `Deployments tokens of every project of ${org}` : `${KIND_WORDS[kind]} of every project of ${org}`;
        }
        if (kind === "deploy") return `Deployments tokens of every stack of project ${dep ? `${dep[1]}/${dep[2]}` : org}`;
        if (kind === "esc-legacy" && !attr) return `ESC tokens of every environment of the legacy default project of ${org}`;
        const project = esc ? `${esc[1]}/${esc[2]}` : attr ? `${org}/${attr[1]}` : org;
        return `${KIND_WORDS[kind]} of every environment of project ${project}`;
    }

    private recordAdmitted(st: Statement, unit: Unit, box: Box, cells: Cell[], sets: KindSet[]): void {
        let entry = this.admitted.get(unit.issuer);
        if (!entry) {
            entry = { auds: new Set(), unbounded: false, subs: new Set(), stmts: new Set(), kinds: new Map() };
            this.admitted.set(unit.issuer, entry);
        }
        entry.stmts.add(st.index);
        for (const cell of cells) {
            const auds = this.decider.enumerate(cell.aud, AUDIENCE_ENUMERATION_CAP);
            if (auds === null) entry.unbounded = true;
            else auds.forEach((a) => entry.auds.add(a));
        }
        // Subjects: the exact set when it is small and finite (e.g. pinned by a Deny), else the patterns as written.
        const exact: string[] = [];
        for (const cell of cells) {
            const subs = this.decider.enumerate(cell.sub, SUBJECT_LISTING_CAP);
            if (subs === null || exact.length + subs.length > SUBJECT_LISTING_CAP) {
                exact.length = 0;
                break;
            }
            for (const s of subs) exact.push(s);
        }
        // Per kind, in words: the exact tokens when the subjects are few, else an example (finiteness of each kind
        // is not decided here: that would explore every kind's product once more).
        for (const set of sets) {
            const tokens =
                exact.length > 0
                    ? exact
                          .filter((s) => this.decider.contains(set.subs, s))
                          .slice(0, 4)
                          .map((s) => this.tokenOf(unit, set, finite([s]), null))
                          .filter((t): t is PulumiToken => t !== null)
                    : [];
            const example = tokens.length === 0 ? this.tokenOf(unit, set, set.subs, this.allowedOrgs?.[0] ?? null) : null;
            const words =
                tokens.length > 0
                    ? tokens.map((t) => describeToken(set.kind, t)).join("; ")
                    : example
                      ? `subjects matching the statement, e.g. ${describeToken(set.kind, example)}`
                      : null;
            if (words === null) continue;
            const prior = entry.kinds.get(set.kind);
            entry.kinds.set(set.kind, { kind: set.kind, description: prior ? `${prior.description}; ${words}` : `${KIND_WORDS[set.kind]}: ${words}` });
        }
        if (exact.length > 0) {
            exact.forEach((s) => entry.subs.add(s));
            return;
        }
        // No condition that compares the subject (none, or only Null and non-string operators): any subject.
        if (!box.subClauses.some((c) => c.operator.family === "string")) entry.subs.add("*");
        for (const c of box.subClauses) {
            if (c.operator.family !== "string") continue;
            if (c.operator.negated) entry.subs.add(`* except ${c.values.join(", ")}`);
            else c.values.forEach((v) => entry.subs.add(v));
        }
    }

    // ---- audiences

    private audCandidates(): string[] {
        const key = `aud\u0000${this.audPatterns.length}`;
        const known = this.candidateLists.get(key);
        if (known) return known;
        const out = this.buildAudCandidates();
        this.candidateLists.set(key, out);
        return out;
    }

    private buildAudCandidates(): string[] {
        const orgs = new Set<string>(this.config.orgs);
        for (const p of this.audPatterns) {
            this.decider.budget.tick();
            const o = orgOfAudience(p.replace(/[*?].*$/, "").replace(/\$\{.*$/, ""));
            if (/^[A-Za-z0-9_.-]+$/.test(o)) orgs.add(o);
        }
        const out: string[] = [];
        for (const p of this.audPatterns) {
            if (isWildcard(p)) out.push(replaceWildcards(p, /(^|:)[*?]/.test(p) ? "evil-org" : "-evil"), replaceWildcards(p, "evil"));
        }
        for (const o of orgs) out.push(`aws:${o}-evil`, `${o}-evil`, `aws:${o}`, o);
        out.push("aws:evil-org", "evil-org");
        return out;
    }

    private checkAudience(st: Statement, unit: Unit, box: Box, cell: Cell, blast: BlastRadius, readings: string[], requireToken: boolean): void {
        const ruleId: RuleId = "oidc-trust-aud-pinned";
        if (this.findings.has(`${ruleId}/${st.index}`)) return;
        const key = `${unit.issuer}:aud`;
        let bad: Lang;
        let why: (aud: string) => string;
        if (this.allowedAudLang) {
            bad = and(cell.aud, not(this.allowedAudLang));
            const allowed = this.config.allowedAudiences!.join(", ");
            why = (aud) => noComparison(box.audClauses, key) ?? `its condition on ${key} admits "${aud}", which is not an allowed audience (${allowed})`;
        } else if (this.decider.isInfinite(cell.aud)) {
            bad = cell.aud;
            why = (aud) => noComparison(box.audClauses, key) ?? `its condition on ${key} admits unboundedly many audiences (organizations), e.g. "${aud}"`;
        } else {
            // No organization configured: the audiences must name one organization, the first one the statement
            // names (the others are reported).
            const auds = this.inWrittenOrder(this.decider.enumerate(cell.aud, AUDIENCE_ENUMERATION_CAP) ?? [], box);
            const orgs = [...new Set(auds.map(orgOfAnyAudience))];
            if (orgs.length <= 1) return;
            bad = finite(auds.filter((a) => orgOfAnyAudience(a) !== orgs[0]));
            why = (aud) => `its condition on ${key} admits more than one organization (${orgs.join(", ")}), e.g. "${aud}", and none is configured`;
        }
        if (this.decider.isEmpty(bad)) return;
        // One issuable token with such an audience: a known kind with its paired audience, else another kind.
        let token: { t: PulumiToken; kind: TokenKind } | null = null;
        for (const v of tokenVariants()) {
            const subs = and(cell.sub, v.sub, this.paired(v, bad));
            if (this.decider.isEmpty(subs)) continue;
            const t = this.tokenOf(unit, { variant: v, kind: v.kind, subs, cell }, subs, "evil-org", bad);
            if (t) {
                token = { t, kind: v.kind };
                break;
            }
        }
        if (!token) {
            const subs = and(cell.sub, otherKindSubjects());
            const t = this.decider.isEmpty(subs) ? null : this.tokenOf(unit, { variant: null, kind: "other", subs, cell }, subs, "evil-org", bad);
            if (t) token = { t, kind: "other" };
        }
        if (!token && requireToken) return;
        const example = this.decider.pick(bad, this.audCandidates()) ?? "";
        const message = token
            ? `${this.where(st)} lets in ${describeToken(token.kind, token.t)} with aud "${token.t.aud}": ${why(token.t.aud)}`
            : `${this.where(st)} admits the audience "${example}": ${why(example)}. No token kind Pulumi issues today pairs it with a subject this statement admits, but the audience is what keeps other organizations out for every kind Pulumi adds`;
        this.report(ruleId, st, box.audClauses, token, message, blast, readings);
    }

    /**
     * Audiences in the order the statement writes them: by the first value (document order, over the audience
     * clauses that admit) that admits each, ties kept in `auds`' order. Not by how they sort: a decision taken on
     * the first of them must not change when the shape cache renames the names (a placeholder sorts elsewhere than
     * the name it stands for).
     */
    private inWrittenOrder(auds: readonly string[], box: Box): string[] {
        const values = box.audClauses
            .filter((c) => c.operator.family === "string" && !c.operator.negated)
            .flatMap((c) => c.values.map((v) => ({ ...c, values: [v] })));
        const rank = (a: string): number => {
            const i = values.findIndex((c) => c.values[0] === a || this.decider.contains(valuesLang(c, "over", this.alphabet, this.decider.budget), a));
            return i < 0 ? values.length : i;
        };
        return auds
            .map((a, i) => ({ a, i, r: rank(a) }))
            .sort((x, y) => x.r - y.r || x.i - y.i)
            .map((x) => x.a);
    }

    // ---- subjects

    /** Candidate lists depend only on the patterns seen so far and the organizations: built once per such key. */
    private readonly candidateLists = new Map<string, string[]>();

    private subCandidates(org: string | null): string[] {
        const key = `sub\u0000${org}\u0000${this.anchorOrg}\u0000${this.subPatterns.length}`;
        const known = this.candidateLists.get(key);
        if (known) return known;
        const out = this.buildSubCandidates(org);
        this.candidateLists.set(key, out);
        return out;
    }

    private buildSubCandidates(org: string | null): string[] {
        const out: string[] = [];
        for (const p of this.subPatterns) {
            this.decider.budget.tick();
            if (isWildcard(p)) for (const c of fillersOf(p)) out.push(c);
        }
        const orgs = [org ?? "evil-org", ...this.config.orgs, ...(this.anchorOrg ? [this.anchorOrg] : []), "evil-org"];
        for (const o of orgs) {
            out.push(
                `pulumi:environments:org:${o}:env:other/prod`,
                `pulumi:environments:org:${o}:env:other`,
                `pulumi:deploy:org:${o}:project:other:stack:prod:operation:update:scope:write`,
                `pulumi:deploy:org:${o}:project:other:stack:prod:operation:destroy:scope:write`,
                `pulumi:environments:pulumi.organization.login:${o}:currentEnvironment.name:other/prod`,
                `pulumi:environments:pulumi.organization.login:${o}:pulumi.user.login:mallory`,
                `pulumi:environments:pulumi.organization.login:${o}`,
                `pulumi:environments:org:${o}:env:<yaml>`,
                `pulumi:cmk:pulumi.organization.login:${o}`,
                `pulumi:future-kind:org:${o}`,
            );
        }
        return out;
    }

    private checkSubject(st: Statement, unit: Unit, box: Box, sets: KindSet[], blast: BlastRadius, readings: string[]): void {
        const ruleId: RuleId = "oidc-trust-sub-pinned";
        const key = `${unit.issuer}:sub`;
        const noCondition = noComparison(box.subClauses, key);
        if (this.allowedSubLang) {
            for (const set of sets) {
                const outside = and(set.subs, not(this.allowedSubLang));
                const t = this.decider.isEmpty(outside) ? null : this.tokenOf(unit, set, outside, this.allowedOrgs?.[0] ?? null);
                if (!t) continue;
                this.report(
                    ruleId,
                    st,
                    box.subClauses,
                    { t, kind: set.kind },
                    `${this.where(st)} lets in ${describeToken(set.kind, t)}: ${noCondition ?? `its subject "${t.sub}" is not among the allowed subjects (${this.config.allowedSubjects!.join(", ")})`}`,
                    blast,
                    readings,
                );
                return;
            }
            return;
        }
        const worst = blast.decided().find((b) => isMandatory(b.class, this.config.subjectScope));
        if (worst) {
            this.report(
                ruleId,
                st,
                box.subClauses,
                { t: worst.counterexample, kind: worst.tokenKind },
                `${this.where(st)} lets in ${worst.tokenDescription}: ${noCondition ?? CLASS_WHY[worst.class]} (${worst.description})`,
                blast,
                readings,
            );
            return;
        }
        const wide = blast.decided().find((b) => b.class === "every-environment-of-project");
        if (wide) {
            const clause = box.subClauses.find((c) => c.operator.family === "string" && !c.operator.negated) ?? box.subClauses[0];
            this.advise(
                "oidc-trust-sub-project-wide",
                st,
                `${this.where(st)} admits ${wide.description} (subjectScope "project" allows it; set subjectScope "environment" to require named environments or stacks)`,
                clause,
                { t: wide.counterexample, kind: wide.tokenKind },
            );
        }
    }

    private checkV2(st: Statement, unit: Unit, box: Box, cells: Cell[], readings: string[]): void {
        const sets: KindSet[] = cells.map((cell) => ({ variant: null, kind: "v2", subs: cell.sub, cell }));
        this.usable = true;
        this.recordAdmitted(st, unit, box, cells, sets);
        const key = `${unit.issuer}:sub`;
        for (const set of sets) {
            const check = this.allowedSubLang ? and(set.subs, not(this.allowedSubLang)) : set.subs;
            const bad = this.allowedSubLang ? !this.decider.isEmpty(check) : this.decider.isInfinite(check);
            if (!bad) continue;
            const t = this.tokenOf(unit, set, check, null);
            if (!t) continue;
            const entry: BlastEntry = {
                class: "every-project",
                description: "fn::open::oidc tokens of unboundedly many environments",
                counterexample: t,
                tokenKind: "v2",
                tokenDescription: describeToken("v2", t),
            };
            const why =
                noComparison(box.subClauses, key) ??
                (this.allowedSubLang
                    ? `its subject "${t.sub}" is not among the allowed subjects (${this.config.allowedSubjects!.join(", ")})`
                    : `${key} must be pinned to exact subjects (fn::open::oidc audiences are chosen by the environment author, so only sub identifies the caller)`);
            const radius = new BlastRadius(new Map([[entry.class, entry]]), []);
            this.report("oidc-trust-sub-pinned", st, box.subClauses, { t, kind: "v2" }, `${this.where(st)} lets in ${entry.tokenDescription}: ${why}`, radius, readings);
            return;
        }
    }

    // ---- reporting

    private where(st: Statement): string {
        return `Statement[${st.index}]`;
    }

    private report(
        ruleId: RuleId,
        st: Statement,
        clauses: Clause[],
        token: { t: PulumiToken; kind: TokenKind } | null,
        message: string,
        radius: BlastRadius,
        readings: string[],
    ): void {
        if (this.findings.has(`${ruleId}/${st.index}`)) return;
        const blast = radius.all();
        const meta = rule(ruleId);
        const blame = clauses.find((c) => c.operator.family === "string" && !c.operator.negated) ?? clauses[0];
        const location: FindingLocation = { statementIndex: st.index };
        if (blame) {
            location.operator = blame.operator.written;
            location.conditionKey = blame.key;
        }
        const rests = readings.length > 0 ? ` This verdict rests on a reading: ${readings.join("; ")}.` : "";
        const cx = token ? ` Counterexample token: iss ${token.t.issuer}, aud "${token.t.aud}", sub "${token.t.sub}".` : "";
        this.findings.set(`${ruleId}/${st.index}`, {
            ruleId,
            severity: meta.severity,
            message: `${message}.${cx}${rests}`,
            path: blame ? blame.path : st.path,
            location,
            remediation: meta.remediation,
            counterexample: token?.t ?? null,
            ...(token ? { tokenKind: token.kind, tokenDescription: describeToken(token.kind, token.t) } : {}),
            ...(blast.length > 0 ? { blastRadius: blast } : {}),
            ...(readings.length > 0 ? { readings: [...readings] } : {}),
        });
    }
}

/**
 * A statement's blast radius: what its verdict rests on is found at once; what is only reported (every operation of a
 * Deployments stack, which lists the set) when a finding of the statement reports the radius. A statement that passes,
 * the common case, never lists its stacks.
 */
class BlastRadius {
    private completed: BlastEntry[] | null = null;

    constructor(
        private readonly found: Map<BlastClass, BlastEntry>,
        private readonly deferred: ReadonlyArray<() => void>,
    ) {}

    /** The classes found so far, worst first: every class a verdict rests on is among them. */
    decided(): BlastEntry[] {
        return BLAST_CLASSES.flatMap((c) => (this.found.has(c) ? [this.found.get(c)!] : []));
    }

    /** Every class, worst first: the deferred ones are found on the first call (one list for all the findings). */
    all(): BlastEntry[] {
        if (this.completed === null) {
            for (const find of this.deferred) find();
            this.completed = this.decided();
        }
        return this.completed;
    }
}

function actionCovers(st: Statement): boolean {
    const matches = st.actions.some((a) => actionMatches(a, WEB_IDENTITY_ACTION));
    return st.notAction ? !matches : matches;
}

