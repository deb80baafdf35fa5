/**
 * A reference evaluator for IAM trust policies, written independently of the analysis core to act as its oracle.
 *
 * It decides ONE concrete web-identity token at a time, by the plain rules of IAM policy evaluation
 * (AWS IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition operators"):
 * an explicit Deny wins; otherwise the token is allowed when some Allow statement matches it; a statement matches
 * when its principal, its action and every one of its conditions hold for the token. Nothing here is clever:
 * glob matching is a dynamic program over characters, every operator is spelled out.
 *
 * Approximations, identical to the ones the analysis promises (see fixtures/README.md):
 * - request context the token does not determine (`aws:*`, `sts:*`, and the issuer's own `amr`/`email`/`oaud`
 *   claims) and non-string operators on `aud`/`sub` are "unknown": an Allow condition on them is taken as true,
 *   and a Deny statement with such a condition is assumed not to apply;
 * - a policy variable `${...}` other than `${*}`, `${?}`, `${$}` stands for any string in an Allow and for no
 *   string at all in a Deny (over- and under-approximation respectively);
 * - the role's account is not known: a Deny takes away what an Allow lets in only when its principal is "*" or names,
 *   exactly as IAM writes the ARN, the provider of every account that Allow trusts (a role uses its own account's
 *   provider only).
 *
 * Not shipped with the pack (policypack/tsconfig.json excludes src/testing).
 */
import assert from "node:assert/strict";
import { DEFAULT_ISSUERS } from "../analysis/constants.js";
import type { AnalysisOptions, Finding, PulumiToken, TrustAnalysis } from "../analysis/types.js";

/** The decision IAM reaches for one token. */
export type Decision = "allow" | "deny";

/** The document is not valid IAM policy grammar; `path` points at the offending element. */
export class ReferenceDocumentError extends Error {
    constructor(
        message: string,
        readonly path: string,
    ) {
        super(`${path || "document"}: ${message}`);
        this.name = "ReferenceDocumentError";
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Glob matching

/** One element of a parsed condition value. `any` is `*` (any run, also empty), `one` is `?`. */
type PatternElement = { kind: "char"; c: string } | { kind: "any" } | { kind: "one" };

/**
 * Does `pattern` match the whole of `text`? Dynamic programming over (pattern position, text position);
 * `any` matches any run of characters, `one` exactly one, `char` itself.
 */
export function matchPattern(pattern: readonly PatternElement[], text: string): boolean {
    const chars = Array.from(text);
    const n = chars.length;
    // row[j] = 1: pattern[0..i) matches text[0..j)
    let row = new Uint8Array(n + 1);
    row[0] = 1;
    for (const el of pattern) {
        const next = new Uint8Array(n + 1);
        let any = 0;
        if (el.kind === "any") {
            let seen = 0;
            for (let j = 0; j <= n; j++) {
                seen |= row[j]!;
                next[j] = seen;
            }
            any = seen;
        } else {
            for (let j = 1; j <= n; j++) {
                if (row[j - 1] === 1 && (el.kind === "one" || el.c === chars[j - 1])) {
                    next[j] = 1;
                    any = 1;
                }
            }
        }
        if (!any) return false;
        row = next;
    }
    return row[n] === 1;
}

/** StringLike syntax (`*`, `?`, no variables): does `glob` match `text`? */
export function globMatch(glob: string, text: string): boolean {
    const pattern: PatternElement[] = Array.from(glob).map((c) =>
        c === "*" ? { kind: "any" } : c === "?" ? { kind: "one" } : { kind: "char", c },
    );
    return matchPattern(pattern, text);
}

/**
 * A condition value parsed into pattern elements. `*`/`?` are wildcards only when `like`. With `variables` (a
 * document of version 2012-10-17), `${*}`, `${?}`, `${$}` are the literal character and any other `${...}` is an
 * unknown variable, reported in `hasVariable` and parsed as `any` (its over-approximation); without, `${...}` is
 * literal text like any other.
 */
function parseValue(value: string, like: boolean, variables = true): { pattern: PatternElement[]; hasVariable: boolean } {
    const pattern: PatternElement[] = [];
    let hasVariable = false;
    const chars = Array.from(value);
    let i = 0;
    while (i < chars.length) {
        const c = chars[i]!;
        if (variables && c === "$" && chars[i + 1] === "{") {
            const close = chars.indexOf("}", i + 2);
            if (close >= 0) {
                const name = chars.slice(i + 2, close).join("");
                if (name === "*" || name === "?" || name === "$") {
                    pattern.push({ kind: "char", c: name });
                } else {
                    hasVariable = true;
                    pattern.push({ kind: "any" });
                }
                i = close + 1;
                continue;
            }
        }
        if (like && c === "*") pattern.push({ kind: "any" });
        else if (like && c === "?") pattern.push({ kind: "one" });
        else pattern.push({ kind: "char", c });
        i++;
    }
    return { pattern, hasVariable };
}

// ---------------------------------------------------------------------------------------------------------------
// Operators

const STRING_OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
] as const;
const OTHER_OPERATORS = [
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
] as const;
/** Operators that hold when the key's value is NOT among the listed ones (and therefore when the key is absent). */
const NEGATED = new Set<string>([
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
]);

/** A condition operator split into its parts, e.g. `ForAnyValue:StringLikeIfExists`. */
export interface ParsedOperator {
    qualifier: "ForAllValues" | "ForAnyValue" | null;
    base: string;
    ifExists: boolean;
}

/** Parses a condition operator name; null when IAM does not know it. Operator names are case-sensitive. */
export function parseOperator(op: string): ParsedOperator | null {
    let rest = op;
    let qualifier: ParsedOperator["qualifier"] = null;
    for (const q of ["ForAllValues", "ForAnyValue"] as const) {
        if (rest.startsWith(`${q}:`)) {
            qualifier = q;
            rest = rest.slice(q.length + 1);
            break;
        }
    }
    if (rest === "Null") return qualifier === null ? { qualifier, base: "Null", ifExists: false } : null;
    let ifExists = false;
    if (rest.endsWith("IfExists")) {
        ifExists = true;
        rest = rest.slice(0, -"IfExists".length);
    }
    const known: readonly string[] = [...STRING_OPERATORS, ...OTHER_OPERATORS];
    return known.includes(rest) ? { qualifier, base: rest, ifExists } : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Document grammar

interface Condition {
    operator: ParsedOperator;
    key: string;
    values: string[];
    /** `${…}` is a policy variable only in a document of version 2012-10-17 (IAM User Guide, "Policy variables"). */
    variables: boolean;
}

interface Statement {
    effect: "Allow" | "Deny";
    principal: { kind: "Principal" | "NotPrincipal"; value: "*" | Record<string, string[]> } | null;
    action: { kind: "Action" | "NotAction"; patterns: string[] } | null;
    conditions: Condition[];
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, path: string): string[] {
    if (typeof v === "string") return [v];
    if (Array.isArray(v) && v.every((x): x is string => typeof x === "string")) return v;
    throw new ReferenceDocumentError("must be a string or an array of strings", path);
}

function parsePrincipal(v: unknown, path: string): "*" | Record<string, string[]> {
    if (v === "*") return "*";
    if (!isObject(v)) throw new ReferenceDocumentError('must be "*" or an object', path);
    const out: Record<string, string[]> = {};
    for (const [k, x] of Object.entries(v)) out[k] = stringList(x, `${path}.${k}`);
    return out;
}

function parseConditions(v: unknown, path: string, variables: boolean): Condition[] {
    if (v === undefined) return [];
    if (!isObject(v)) throw new ReferenceDocumentError("must be an object", path);
    const out: Condition[] = [];
    for (const [op, block] of Object.entries(v)) {
        const operator = parseOperator(op);
        if (!operator) throw new ReferenceDocumentError(`unknown condition operator ${op}`, path);
        if (!isObject(block)) throw new ReferenceDocumentError("must be an object", `${path}.${op}`);
        const seen = new Set<string>();
        for (const [key, raw] of Object.entries(block)) {
            const where = `${path}.${op}["${key}"]`;
            // Keys are case-insensitive: two spellings of one key in one block are ambiguous.
            if (seen.has(key.toLowerCase())) throw new ReferenceDocumentError("condition key repeated", where);
            seen.add(key.toLowerCase());
            const list: unknown[] = Array.isArray(raw) ? raw : [raw];
            if (list.length === 0) throw new ReferenceDocumentError("empty value list", where);
            const values = list.map((x) => {
                if (typeof x === "string") return x;
                if (typeof x === "number" || typeof x === "boolean") return String(x);
                throw new ReferenceDocumentError("values must be strings, numbers or booleans", where);
            });
            if (operator.base === "Null" && values.some((x) => x !== "true" && x !== "false")) {
                throw new ReferenceDocumentError('Null takes "true" or "false"', where);
            }
            out.push({ operator, key, values, variables });
        }
    }
    return out;
}

function parseStatement(v: unknown, path: string, variables: boolean): Statement {
    if (!isObject(v)) throw new ReferenceDocumentError("statement must be an object", path);
    const effect = v.Effect;
    if (effect !== "Allow" && effect !== "Deny") throw new ReferenceDocumentError('Effect must be "Allow" or "Deny"', `${path}.Effect`);
    if ("Principal" in v && "NotPrincipal" in v) throw new ReferenceDocumentError("both Principal and NotPrincipal", path);
    if ("Action" in v && "NotAction" in v) throw new ReferenceDocumentError("both Action and NotAction", path);
    const pk = "Principal" in v ? "Principal" : "NotPrincipal" in v ? "NotPrincipal" : null;
    const ak = "Action" in v ? "Action" : "NotAction" in v ? "NotAction" : null;
    return {
        effect,
        principal: pk ? { kind: pk, value: parsePrincipal(v[pk], `${path}.${pk}`) } : null,
        action: ak ? { kind: ak, patterns: stringList(v[ak], `${path}.${ak}`) } : null,
        conditions: parseConditions(v.Condition, `${path}.Condition`, variables),
    };
}

/**
 * Parses a trust policy (an object, or a JSON string holding one) into statements.
 * Throws ReferenceDocumentError for anything that is not valid policy grammar.
 */
export function parseDocument(doc: unknown): Statement[] {
    let d = doc;
    if (typeof d === "string") {
        try {
            d = JSON.parse(d) as unknown;
        } catch {
            throw new ReferenceDocumentError("not valid JSON", "");
        }
    }
    if (!isObject(d)) throw new ReferenceDocumentError("must be an object", "");
    const s = d.Statement;
    // No Version is read as 2008-10-17, where `${…}` is text; any other version is read as 2012-10-17's.
    const variables = d.Version !== undefined && d.Version !== "2008-10-17";
    if (Array.isArray(s)) return s.map((x, i) => parseStatement(x, `Statement[${i}]`, variables));
    if (isObject(s)) return [parseStatement(s, "Statement[0]", variables)];
    throw new ReferenceDocumentError("Statement must be an object or an array", "Statement");
}

// ---------------------------------------------------------------------------------------------------------------
// Matching one token

/** True when `issuer` is a `fn::open::oidc` issuer (`.../oidc/v2`): author-chosen audiences, ID-based subjects. */
export function isV2Issuer(issuer: string): boolean {
    return /\/oidc\/v2$/i.test(issuer);
}

/** `api.pulumi.com/oidc` and `API.Pulumi.com/oidc` are one issuer (host case-insensitive, path case-sensitive). */
function sameIssuer(a: string, b: string): boolean {
    const split = (s: string): [string, string] => {
        const i = s.indexOf("/");
        return i < 0 ? [s.toLowerCase(), ""] : [s.slice(0, i).toLowerCase(), s.slice(i)];
    };
    const [ha, pa] = split(a);
    const [hb, pb] = split(b);
    return ha === hb && pa === pb;
}

/** Is `arn` the IAM OIDC provider of `issuer`, in any partition and account? */
export function isProviderArnOf(arn: string, issuer: string): boolean {
    const parts = arn.split(":");
    if (parts.length < 6 || parts[0] !== "arn" || parts[1] === "" || parts[2] !== "iam" || parts[3] !== "") return false;
    const resource = parts.slice(5).join(":");
    if (!resource.startsWith("oidc-provider/")) return false;
    return sameIssuer(resource.slice("oidc-provider/".length), issuer);
}

const PLACEHOLDER_RE = /\$\{[^}]*\}|\{\{[^}]*\}\}|<[^>]*>/;

/**
 * Could a Federated value, read the way that lets more in, be `issuer`'s provider? A well-formed ARN is decided
 * exactly; a placeholder in the account or partition is ignored; a malformed ARN or a bare issuer URL is compared
 * by its provider path; a placeholder in the path (or a value that is a placeholder as a whole) "maybe".
 */
export function federatedMayBe(value: string, issuer: string): "yes" | "no" | "maybe" {
    if (isProviderArnOf(value, issuer) && !PLACEHOLDER_RE.test(value)) return "yes";
    const at = value.indexOf("oidc-provider/");
    if (at >= 0) {
        const path = value.slice(at + "oidc-provider/".length);
        if (PLACEHOLDER_RE.test(path)) return "maybe";
        return sameIssuer(path.replace(/\/+$/, ""), issuer) ? "yes" : "no";
    }
    if (PLACEHOLDER_RE.test(value)) return "maybe";
    const url = value.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
    return sameIssuer(url, issuer) ? "yes" : "no";
}

/** Whether a statement's conditions name the issuer's `aud` or `sub` key. */
function namesIssuerKey(st: Statement, issuer: string): boolean {
    const prefix = issuer.toLowerCase() + ":";
    return st.conditions.some((c) => c.key.toLowerCase() === prefix + "aud" || c.key.toLowerCase() === prefix + "sub");
}

/** Does this principal element name a web identity of `issuer` (for Allow: also the `*` forms and readings)? */
function principalNames(st: Statement, value: "*" | Record<string, string[]>, issuer: string): boolean {
    if (value === "*") return true;
    if (value.AWS?.includes("*")) return true;
    const fed = value.Federated ?? [];
    return fed.some((f) => {
        if (f === "*") return true;
        const m = federatedMayBe(f, issuer);
        return m === "yes" || (m === "maybe" && namesIssuerKey(st, issuer));
    });
}

/**
 * `<partition>:<account>` of a Federated value that is, character for character, the ARN IAM writes for `issuer`'s
 * provider in one account; undefined for anything else.
 */
function exactProvider(f: string, issuer: string): string | undefined {
    const m = /^arn:([a-z][a-z0-9-]*):iam::([0-9]{12}):oidc-provider\/(.+)$/.exec(f);
    return m && m[3] === issuer.toLowerCase() ? `${m[1]}:${m[2]}` : undefined;
}

/**
 * The providers an Allow statement trusts for `issuer`, as `<partition>:<account>`; null when it admits the issuer's
 * tokens some other way too (`*`, an issuer URL, a placeholder), which names no account. A role can only use its own
 * account's provider, and the document does not say which account that is.
 */
function allowProviders(st: Statement, issuer: string): Set<string> | null {
    const out = new Set<string>();
    if (!st.principal) return out;
    const v = st.principal.value;
    if (st.principal.kind !== "Principal" || v === "*" || v.AWS?.includes("*")) return null;
    for (const f of v.Federated ?? []) {
        if (f === "*") return null;
        const exact = exactProvider(f, issuer);
        if (exact !== undefined) out.add(exact);
        else if (federatedMayBe(f, issuer) !== "no") return null;
    }
    return out;
}

/**
 * Whether a Deny certainly applies wherever the Allow `allow` lets a token in: Principal "*", or the provider of
 * every account the Allow trusts, each written exactly as IAM writes its ARN.
 */
function denyCovers(deny: Statement, allow: Statement, issuer: string): boolean {
    if (!deny.principal || deny.principal.kind !== "Principal") return false;
    const v = deny.principal.value;
    if (v === "*") return true;
    const trusted = allowProviders(allow, issuer);
    if (trusted === null || trusted.size === 0) return false;
    const named = new Set((v.Federated ?? []).map((f) => exactProvider(f, issuer)));
    return [...trusted].every((a) => named.has(a));
}

/** Whether an Allow's principal names a web identity of `issuer` (a Deny's is decided against each Allow). */
function principalMatches(st: Statement, issuer: string): boolean {
    if (!st.principal) return false;
    const named = principalNames(st, st.principal.value, issuer);
    return st.principal.kind === "Principal" ? named : !named;
}

const WEB_IDENTITY = "sts:assumerolewithwebidentity";

function actionMatches(st: Statement): boolean {
    if (!st.action) return false;
    const hit = st.action.patterns.some((p) => globMatch(p.toLowerCase(), WEB_IDENTITY));
    return st.action.kind === "Action" ? hit : !hit;
}

/** What a condition key means for a token of `issuer`. */
type KeyValue = { kind: "present"; value: string } | { kind: "absent" } | { kind: "unknown" };

function classifyKey(key: string, token: PulumiToken): KeyValue {
    const k = key.toLowerCase();
    const prefix = token.issuer.toLowerCase() + ":";
    if (k === prefix + "aud") return { kind: "present", value: token.aud };
    if (k === prefix + "sub") return { kind: "present", value: token.sub };
    if (k === prefix + "amr" || k === prefix + "email" || k === prefix + "oaud") return { kind: "unknown" };
    // `<issuer path>:<claim>` of any other issuer, or a misspelt claim of this one: the token never carries it. A
    // service's key (`aws:`, `iam:`) names no host before its first colon, whatever its tag key holds after it.
    const colon = k.indexOf(":");
    if (colon > 0 && k.slice(0, colon).includes(".")) return { kind: "absent" };
    return { kind: "unknown" };
}

type Approx = "over" | "under";

/** Does one listed value match `v`? A value with a variable matches anything (over) or nothing (under). */
const parsedValues = new Map<string, { pattern: PatternElement[]; hasVariable: boolean }>();

function valueMatches(base: string, listed: string, v: string, approx: Approx, variables: boolean): boolean {
    const like = base === "StringLike" || base === "StringNotLike";
    const ignoreCase = base === "StringEqualsIgnoreCase" || base === "StringNotEqualsIgnoreCase";
    const cacheKey = `${like ? "L" : "E"}${ignoreCase ? "i" : "c"}${variables ? "v" : "l"}${listed}`;
    let parsed = parsedValues.get(cacheKey);
    if (!parsed) {
        parsed = parseValue(ignoreCase ? listed.toLowerCase() : listed, like, variables);
        if (parsedValues.size > 10_000) parsedValues.clear();
        parsedValues.set(cacheKey, parsed);
    }
    if (parsed.hasVariable && approx === "under") return false;
    return matchPattern(parsed.pattern, ignoreCase ? v.toLowerCase() : v);
}

/** true / false, or "unknown" when the token does not decide the condition. */
function conditionHolds(c: Condition, token: PulumiToken, approx: Approx): boolean | "unknown" {
    const kv = classifyKey(c.key, token);
    if (kv.kind === "unknown") return "unknown";
    const { qualifier, base, ifExists } = c.operator;
    if (base === "Null") {
        const absent = kv.kind === "absent";
        return c.values.some((x) => (x === "true" ? absent : !absent));
    }
    if (kv.kind === "absent") {
        // ForAnyValue with IfExists on an absent key is unclear in AWS's documentation: the reading that lets more
        // in is taken, true in an Allow (over) and false in a Deny (under).
        if (qualifier === "ForAnyValue" && ifExists) return approx === "over";
        if (qualifier === "ForAllValues") return true;
        if (qualifier === "ForAnyValue") return false;
        if (ifExists) return true;
        return NEGATED.has(base);
    }
    // Present and single-valued: ForAllValues/ForAnyValue/IfExists behave like the plain operator.
    if (!(STRING_OPERATORS as readonly string[]).includes(base)) return "unknown";
    if (NEGATED.has(base)) {
        // A negated match holds when no listed value matches; approximating the listed values the other way round.
        const inner: Approx = approx === "over" ? "under" : "over";
        return !c.values.some((x) => valueMatches(base, x, kv.value, inner, c.variables));
    }
    return c.values.some((x) => valueMatches(base, x, kv.value, approx, c.variables));
}

/** Whether an Allow lets the token in, or a Deny (its principal left to {@link denyCovers}) takes it away. */
function statementMatches(st: Statement, token: PulumiToken): boolean {
    if ((st.effect === "Allow" && !principalMatches(st, token.issuer)) || !actionMatches(st)) return false;
    const approx: Approx = st.effect === "Allow" ? "over" : "under";
    for (const c of st.conditions) {
        const r = conditionHolds(c, token, approx);
        if (r === "unknown") {
            if (st.effect === "Deny") return false; // a Deny that depends on request context may not apply
            continue; // an Allow is assumed to be satisfiable in that context
        }
        if (!r) return false;
    }
    return true;
}

/**
 * The decision for one token issued by `token.issuer` (one of `issuers`, default the two Pulumi issuers).
 * Throws ReferenceDocumentError when the document is not valid policy grammar, and RangeError when the token's
 * issuer is not among `issuers`.
 */
export function evaluate(doc: unknown, token: PulumiToken, issuers: readonly string[] = DEFAULT_ISSUERS): Decision {
    return compileEvaluator(doc, issuers)(token);
}

/** `evaluate` with the document parsed once, for deciding many tokens against one document. */
export function compileEvaluator(doc: unknown, issuers: readonly string[] = DEFAULT_ISSUERS): (token: PulumiToken) => Decision {
    const statements = parseDocument(doc);
    return (token) => {
        if (!issuers.some((i) => sameIssuer(i, token.issuer))) {
            throw new RangeError(`token issuer ${token.issuer} is not among ${issuers.join(", ")}`);
        }
        // An explicit Deny wins where it applies: the token is allowed when some Allow lets it in and no Deny that
        // covers that Allow's providers takes it away.
        const denying = statements.filter((st) => st.effect === "Deny" && statementMatches(st, token));
        return statements.some((st) => st.effect === "Allow" && statementMatches(st, token) && !denying.some((d) => denyCovers(d, st, token.issuer)))
            ? "allow"
            : "deny";
    };
}

// ---------------------------------------------------------------------------------------------------------------
// The token universe and the per-token pin predicate

const NAME = "[A-Za-z0-9_.-]+";
/** Pulumi organization names are lowercase. */
const ORG = "[a-z0-9_.-]+";
const ATTRS = "(:[A-Za-z0-9_.]+:[A-Za-z0-9_.@/-]+)*";
const V1_AUD = new RegExp(`^(${NAME}:)?${ORG}$`);

/** The kinds of token Pulumi issues through the `/oidc` issuer, with the audience each is issued with (DOMAIN.md §5). */
export type ReferenceKind = "esc" | "esc-legacy" | "esc-inline" | "deploy" | "cmk" | "other";

/** Subject forms per kind; `$ORG` is the organization, which the audience must name too. */
const KIND_FORMS: ReadonlyArray<{ kind: ReferenceKind; aud: string[]; sub: RegExp }> = [
    { kind: "esc", aud: ["aws:"], sub: new RegExp(`^pulumi:environments:org:(${ORG}):env:${NAME}/${NAME}$`) },
    { kind: "esc", aud: ["aws:"], sub: new RegExp(`^pulumi:environments:pulumi\\.organization\\.login:(${ORG})${ATTRS}$`) },
    { kind: "esc-legacy", aud: [""], sub: new RegExp(`^pulumi:environments:org:(${ORG}):env:${NAME}$`) },
    { kind: "esc-legacy", aud: [""], sub: new RegExp(`^pulumi:environments:pulumi\\.organization\\.login:(${ORG})${ATTRS}$`) },
    { kind: "esc-inline", aud: ["", "aws:"], sub: new RegExp(`^pulumi:environments:org:(${ORG}):env:<yaml>$`) },
    {
        kind: "deploy",
        aud: [""],
        sub: new RegExp(`^pulumi:deploy:org:(${ORG}):project:${NAME}:stack:${NAME}:operation:(preview|update|refresh|destroy):scope:write$`),
    },
    { kind: "cmk", aud: ["aws:"], sub: new RegExp(`^pulumi:cmk:pulumi\\.organization\\.login:(${ORG})$`) },
];
const V1_SUBS = [...KIND_FORMS.map((f) => f.sub), /^pulumi:(?!environments:|deploy:|cmk:)/];
const V2_SUB = new RegExp(`^pulumi:org:${NAME}:env:${NAME}$`);

/** The kinds a v1 token can be of (empty: Pulumi cannot issue it). Audience and subject name the same organization. */
export function kindsOf(token: PulumiToken): ReferenceKind[] {
    const out: ReferenceKind[] = [];
    // Pulumi names each environment attribute at most once in a subject-attribute subject (both may be there), with
    // the value `<project>/<environment>`, or the environment's name alone in the legacy default project.
    const twice = ["currentEnvironment", "rootEnvironment"].some((a) => token.sub.split(`:${a}.name:`).length > 2);
    const envValues = [...token.sub.matchAll(/:(?:currentEnvironment|rootEnvironment)\.name:([^:]*)/g)].map((m) => m[1] ?? "");
    const valuesFit = (legacy: boolean): boolean => envValues.every((v) => new RegExp(legacy ? `^${NAME}$` : `^${NAME}/${NAME}$`).test(v));
    for (const f of KIND_FORMS) {
        if (f.sub.source.includes("login") && (twice || !valuesFit(f.kind === "esc-legacy"))) continue;
        const m = f.sub.exec(token.sub);
        if (m && f.aud.some((q) => token.aud === `${q}${m[1]}`)) out.push(f.kind);
    }
    if (/^pulumi:(?!environments:|deploy:|cmk:)/.test(token.sub) && V1_AUD.test(token.aud)) out.push("other");
    return out;
}

/** Could Pulumi issue this token (issuer among `issuers`, one kind's audience paired with its subject)? */
export function inUniverse(token: PulumiToken, issuers: readonly string[] = DEFAULT_ISSUERS): boolean {
    if (!issuers.some((i) => sameIssuer(i, token.issuer))) return false;
    if (isV2Issuer(token.issuer)) return token.aud.length > 0 && V2_SUB.test(token.sub);
    return kindsOf(token).length > 0;
}

/** The audiences `options` allow: `audiences`, else `<org>` and `aws:<org>` per organization, else null (unset). */
export function allowedAudiences(options: AnalysisOptions): string[] | null {
    if (options.audiences && options.audiences.length > 0) return [...options.audiences];
    if (options.organizations && options.organizations.length > 0) {
        return options.organizations.flatMap((o) => [o, `aws:${o}`]);
    }
    return null;
}

/** The audience pin for one token: true when unset, for v2 issuers (their audiences prove nothing), or allowed. */
export function audienceInScope(token: PulumiToken, options: AnalysisOptions): boolean {
    const auds = allowedAudiences(options);
    return auds === null || isV2Issuer(token.issuer) || auds.includes(token.aud);
}

/** The subject pin for one token: true when `allowedSubjects` is unset, else the sub matches one of its globs. */
export function subjectInScope(token: PulumiToken, options: AnalysisOptions): boolean {
    const globs = options.allowedSubjects;
    return globs === undefined || globs.some((g) => globMatch(g, token.sub));
}

/**
 * The pin predicate where it is decidable token by token: the audience is allowed (when `organizations` or
 * `audiences` is configured) and the subject matches an `allowedSubjects` glob (when configured). The default
 * subject scope ("confined" patterns) is a property of the admitted set, not of one token, and is not checked here.
 */
export function inScope(token: PulumiToken, options: AnalysisOptions): boolean {
    return audienceInScope(token, options) && subjectInScope(token, options);
}

// ---------------------------------------------------------------------------------------------------------------
// Candidate tokens

const BASE_AUDIENCES = ["acme", "aws:acme", "acme-evil", "aws:acme-evil", "aws:acmx", "globex", "aws:globex", "Acme", "aws:ACME", "gcp:acme"];
const BASE_SUBJECTS = [
    "pulumi:environments:org:acme:env:payments/prod",
    "pulumi:environments:org:acme:env:payments/dev",
    "pulumi:environments:org:acme:env:payments/prod-eu",
    "pulumi:environments:org:acme:env:payroll/prod",
    "pulumi:environments:org:acme:env:pay/prod",
    "pulumi:environments:org:acme:env:PAYMENTS/prod",
    "pulumi:environments:org:ACME:env:payments/prod",
    "pulumi:environments:org:acme:env:prod",
    "pulumi:environments:org:acme:env:<yaml>",
    "pulumi:environments:org:acme-evil:env:payments/prod",
    "pulumi:environments:org:globex:env:payments/prod",
    "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write",
    "pulumi:deploy:org:acme:project:infra:stack:prod:operation:destroy:scope:write",
    "pulumi:deploy:org:acme:project:infra:stack:dev:operation:update:scope:write",
    "pulumi:deploy:org:acme:project:payments:stack:prod:operation:preview:scope:write",
    "pulumi:deploy:org:globex:project:infra:stack:prod:operation:update:scope:write",
    "pulumi:environments:pulumi.organization.login:acme",
    "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/prod",
    "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payroll/prod",
    "pulumi:environments:pulumi.organization.login:evil:org:acme:env:payments/prod",
    "pulumi:environments:pulumi.organization.login:evil:currentEnvironment.name:payments/prod",
    "pulumi:environments:pulumi.organization.login:acme:pulumi.user.login:alice",
    "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:payments/prod",
    "pulumi:cmk:pulumi.organization.login:acme",
    "pulumi:cmk:pulumi.organization.login:globex",
    "pulumi:future:org:acme:thing:x",
];
const V2_SUBJECTS = ["pulumi:org:o1:env:e1", "pulumi:org:o1:env:e2", "pulumi:org:o2:env:e1"];
const STAR_FILLS = ["", "x", "prod", "evil", "-evil", "payments/prod", "prod:operation:update:scope:write", "acme:env:payments/prod"];
const RENAMES: [string, string][] = [
    ["acme", "acme-evil"],
    ["acme", "ACME"],
    ["acme", "globex"],
    ["payments", "payroll"],
    ["payments", "PAYMENTS"],
    ["prod", "dev"],
    ["prod", "prodx"],
    ["infra", "infra2"],
    ["o1", "o9"],
];

function collectStrings(v: unknown, out: Set<string>): void {
    if (typeof v === "string") out.add(v);
    else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
    else if (isObject(v)) Object.values(v).forEach((x) => collectStrings(x, out));
}

/** Concrete strings a condition value stands for: wildcards and variables filled in, names mutated. */
function instantiate(value: string): string[] {
    const literalised = value.replace(/\$\{[*?$]\}/g, (m) => m.slice(2, 3)).replace(/\$\{[^}]*\}/g, "*");
    const out = new Set<string>([value]);
    for (const fill of STAR_FILLS) out.add(literalised.replace(/\*/g, fill).replace(/\?/g, "x"));
    for (const s of [...out]) for (const [a, b] of RENAMES) if (s.includes(a)) out.add(s.split(a).join(b));
    return [...out];
}

/**
 * Tokens of the universe worth trying against `doc`: a fixed set of realistic and near-miss tokens, plus every
 * string of the document with its wildcards filled in and its names mutated, for each issuer in `issuers`.
 * Every token returned satisfies `inUniverse`.
 */
export function candidateTokens(doc: unknown, issuers: readonly string[] = DEFAULT_ISSUERS): PulumiToken[] {
    const strings = new Set<string>();
    let d = doc;
    if (typeof d === "string") {
        try {
            d = JSON.parse(d) as unknown;
        } catch {
            d = null;
        }
    }
    collectStrings(d, strings);
    const derived = [...strings].flatMap(instantiate);
    // The document's own values first, then the fixed near misses; capped to keep the product small.
    // Every organization a subject names gets both of its audiences, so that every subject has its paired audience.
    const subjectOrgs = derived.flatMap((s) => /^pulumi:[a-z]+:(?:org|pulumi\.organization\.login):([a-z0-9_.-]+)/.exec(s)?.[1] ?? []);
    const auds = [
        ...new Set([...derived.filter((s) => V1_AUD.test(s)), ...subjectOrgs.flatMap((o) => [o, `aws:${o}`]), ...BASE_AUDIENCES]),
    ].slice(0, 32);
    const subs = [...new Set([...derived.filter((s) => V1_SUBS.some((re) => re.test(s))), ...BASE_SUBJECTS])].slice(0, 90);
    const v2subs = new Set([...V2_SUBJECTS, ...derived.filter((s) => V2_SUB.test(s))]);
    const out: PulumiToken[] = [];
    for (const issuer of issuers) {
        if (isV2Issuer(issuer)) {
            for (const aud of new Set(["sts.amazonaws.com", "aws:acme", ...derived.filter((s) => s.length > 0).slice(0, 20)])) {
                for (const sub of v2subs) out.push({ issuer, aud, sub });
            }
        } else {
            for (const aud of auds) for (const sub of subs) out.push({ issuer, aud, sub });
        }
    }
    return out.filter((t) => inUniverse(t, issuers));
}

// ---------------------------------------------------------------------------------------------------------------
// Oracle checks on an analysis result (used by the fixture, operator-table and property tests)

const PIN_RULES = new Set(["oidc-trust-aud-pinned", "oidc-trust-sub-pinned"]);

export function describeFinding(f: Finding): string {
    return JSON.stringify({ ruleId: f.ruleId, location: f.location, counterexample: f.counterexample });
}

/** The same document reduced to one Allow statement (plus every Deny), to check a finding's statementIndex. */
function onlyStatement(doc: unknown, index: number): unknown {
    const d = (typeof doc === "string" ? JSON.parse(doc) : doc) as { Statement: unknown };
    const list = (Array.isArray(d.Statement) ? d.Statement : [d.Statement]) as { Effect?: unknown }[];
    return { ...d, Statement: list.filter((s, i) => i === index || s.Effect === "Deny") };
}

function statementEffect(doc: unknown, index: number): unknown {
    const d = (typeof doc === "string" ? JSON.parse(doc) : doc) as { Statement: unknown };
    const list = (Array.isArray(d.Statement) ? d.Statement : [d.Statement]) as { Effect?: unknown }[];
    return list[index]?.Effect;
}

/**
 * Checks every fail finding against the reference evaluator: the counterexample exists, is a token Pulumi can
 * issue, is admitted by the document and by the statement the finding names, and breaks the pin where the pin is
 * decidable token by token. Shared with the operator table and property tests.
 */
export function checkCounterexamples(doc: unknown, options: AnalysisOptions, result: TrustAnalysis): void {
    const issuers = options.issuers ?? DEFAULT_ISSUERS;
    let compiled: ((t: PulumiToken) => Decision) | null = null;
    const decide = (t: PulumiToken): Decision => (compiled ??= compileEvaluator(doc, issuers))(t);
    /** One token, as printed anywhere: issuable, of the kind it is said to be, admitted by the document and statement. */
    const checkToken = (cx: PulumiToken, kind: string | undefined, si: number, where: string): void => {
        assert.ok(inUniverse(cx, issuers), `counterexample is not a token Pulumi can issue: ${where}`);
        if (kind !== undefined && kind !== "v2") {
            assert.ok((kindsOf(cx) as string[]).includes(kind), `counterexample is not a ${kind} token (it is ${kindsOf(cx).join(", ") || "none"}): ${where}`);
        }
        assert.equal(decide(cx), "allow", `reference evaluator denies the counterexample: ${where}`);
        assert.equal(
            compileEvaluator(onlyStatement(doc, si), issuers)(cx),
            "allow",
            `statement ${si} alone does not admit the counterexample: ${where}`,
        );
    };
    for (const f of result.findings) {
        const where = describeFinding(f);
        if (f.counterexample && f.location.statementIndex !== undefined) {
            checkToken(f.counterexample, f.tokenKind, f.location.statementIndex, where);
        }
        for (const b of f.blastRadius ?? []) {
            checkToken(b.counterexample, b.tokenKind, f.location.statementIndex!, `${where} blast ${b.class}`);
        }
        if (!PIN_RULES.has(f.ruleId)) continue;
        const cx = f.counterexample;
        const si = f.location.statementIndex;
        assert.equal(typeof si, "number", `fail finding without a statement index: ${where}`);
        assert.equal(statementEffect(doc, si!), "Allow", `statement ${si} is not an Allow statement: ${where}`);
        if (!cx) {
            // Only the audience rule may fail without a token: the audience admits other organizations but no
            // issuable token pairs such an audience with a subject the statement admits. Then no candidate does.
            assert.equal(f.ruleId, "oidc-trust-aud-pinned", `fail finding without a counterexample: ${where}`);
            const alone = compileEvaluator(onlyStatement(doc, si!), issuers);
            const allowed = allowedAudiences(options);
            const escaped = candidateTokens(doc, issuers).find(
                (t) => !isV2Issuer(t.issuer) && alone(t) === "allow" && allowed !== null && !allowed.includes(t.aud),
            );
            assert.equal(escaped, undefined, `aud finding without a counterexample, but ${JSON.stringify(escaped)} gets in: ${where}`);
            continue;
        }
        if (f.ruleId === "oidc-trust-aud-pinned") {
            assert.ok(!isV2Issuer(cx.issuer), `aud rule applied to a v2 token: ${where}`);
            if (allowedAudiences(options)) assert.ok(!audienceInScope(cx, options), `counterexample aud is allowed: ${where}`);
        }
        if (f.ruleId === "oidc-trust-sub-pinned" && options.allowedSubjects) {
            assert.ok(!subjectInScope(cx, options), `counterexample sub is allowed: ${where}`);
        }
    }
}

/**
 * Replays candidate tokens through the reference evaluator: a document that admits one is usable from Pulumi,
 * and, when the options make the pin decidable token by token, a `pass` admits none outside it.
 */
export function checkAgainstCandidates(doc: unknown, options: AnalysisOptions, result: TrustAnalysis): void {
    if (result.verdict !== "pass" && result.verdict !== "fail") return;
    const issuers = options.issuers ?? DEFAULT_ISSUERS;
    const decide = compileEvaluator(doc, issuers);
    const admitted = candidateTokens(doc, issuers).filter((t) => decide(t) === "allow");
    if (admitted.length > 0) {
        assert.equal(result.usableFromPulumi, true, `usableFromPulumi is false but ${JSON.stringify(admitted[0])} gets in`);
    }
    const decidable = allowedAudiences(options) !== null && options.allowedSubjects !== undefined;
    if (decidable && result.verdict === "pass") {
        const escaped = admitted.find((t) => !inScope(t, options));
        assert.equal(escaped, undefined, `verdict pass, but the document admits ${JSON.stringify(escaped)} outside the pin`);
    }
}
