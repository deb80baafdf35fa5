/**
 * From a statement's conditions to the set of tokens it covers, per issuer: a box `aud-language × sub-language`
 * (several keys AND, several values OR, keys case-insensitive). Conditions the analysis cannot see through
 * (request context, claims it does not model, non-string operators on claims) are approximated soundly:
 * over for Allow (ignored), under for Deny (the Deny is assumed not to apply).
 */
import { ALL, Alphabet, LazyDfa, NONE, OTHER, and, finite, leaf, not, noteLiteralHeads, rx, sharedAlphabetFor, sharedPatternDfa, type Budget, type Lang, type Rx } from "./automata.js";
import type { Clause, Statement } from "./document.js";

export type Mode = "over" | "under";

/** How a condition key relates to the tokens of one issuer. */
export type KeyKind = "aud" | "sub" | "context" | "absent";

/** Claims of a Pulumi issuer that AWS exposes but the analysis does not model (their values are unknown). */
const UNMODELLED_CLAIMS = new Set(["amr", "email", "oaud"]);

export function classifyKey(key: string, issuer: string): KeyKind {
    const lower = key.toLowerCase();
    const own = `${issuer.toLowerCase()}:`;
    if (lower.startsWith(own)) {
        const claim = lower.slice(own.length);
        if (claim === "aud") return "aud";
        if (claim === "sub") return "sub";
        return UNMODELLED_CLAIMS.has(claim) ? "context" : "absent";
    }
    return isWebIdentityKey(lower) ? "absent" : "context";
}

/**
 * Whether a condition key is a web identity provider's claim, `<host>[/<path>]:<claim>`: what stands before its
 * first `:` holds a dot (a host). Global and service keys (`aws:`, `sts:`, `iam:`) have none there, whatever follows:
 * a tag key may hold dots and colons (`iam:ResourceTag/example.com:team`).
 */
export function isWebIdentityKey(key: string): boolean {
    const colon = key.indexOf(":");
    return colon > 0 && key.slice(0, colon).includes(".");
}

export interface Box {
    aud: Lang;
    sub: Lang;
    /** False when some condition is certainly false for every token of the issuer. */
    possible: boolean;
    audClauses: Clause[];
    subClauses: Clause[];
    /** Readings taken where IAM's behaviour is unclear (DOMAIN.md §5, "Readings under ambiguity"), in words. */
    readings: string[];
    /** The first condition that is false for every token because it tests a claim the token does not carry. */
    shutBy?: Clause;
}

/**
 * THE glob compiler of the analysis, for condition values and for configured `allowedSubjects` alike: one value
 * into a regular expression. Under `like`, `*` is any run and `?` one character. With `variables` (a document that
 * reads policy variables), `${*}`, `${?}`, `${$}` are the literal characters and any other `${...}` is a policy
 * variable whose value the analysis does not know: any string when over-approximating, and the whole value is
 * dropped (null) when under-approximating. Without `variables`, `${...}` is literal text like any other.
 */
export function globRx(value: string, like: boolean, ignoreCase: boolean, mode: Mode, alphabet: Alphabet, variables = true): Rx | null {
    const parts: Rx[] = [];
    let literal = "";
    const flush = (): void => {
        if (literal) parts.push(rx.lit(literal, alphabet, ignoreCase));
        literal = "";
    };
    const chars = Array.from(value);
    for (let i = 0; i < chars.length; i++) {
        const c = chars[i]!;
        if (variables && c === "$" && chars[i + 1] === "{") {
            const close = chars.indexOf("}", i + 2);
            if (close > 0) {
                const inner = chars.slice(i + 2, close).join("");
                i = close;
                if (inner === "*" || inner === "?" || inner === "$") {
                    literal += inner;
                    continue;
                }
                // A policy variable: its value is not known to the analysis.
                if (mode === "under") return null;
                flush();
                parts.push(rx.star(rx.any));
                continue;
            }
        }
        if (like && c === "*") {
            flush();
            parts.push(rx.star(rx.any));
        } else if (like && c === "?") {
            flush();
            parts.push(rx.any);
        } else {
            literal += c;
        }
    }
    flush();
    return rx.seqOf(parts);
}

/** The language of a clause's values (their union), approximated per `mode`. */
export function valuesLang(clause: Clause, mode: Mode, alphabet: Alphabet, budget?: Budget): Lang {
    const op = clause.operator.stringOp!;
    const like = op === "StringLike" || op === "StringNotLike";
    const ignoreCase = op.endsWith("IgnoreCase");
    // Literal values (no wildcard under StringLike, no policy variable, case-sensitive) stay an explicit set.
    const special = like ? (clause.variables ? /[*?]|\$\{/ : /[*?]/) : clause.variables ? /\$\{/ : null;
    if (!ignoreCase && clause.values.every((v) => special === null || !special.test(v))) {
        for (const v of clause.values) for (const c of v) alphabet.symbol(c);
        return finite(clause.values);
    }
    const build = (a: Alphabet): Rx | null => {
        const alts = clause.values
            .map((v) => {
                budget?.tick();
                return globRx(v, like, ignoreCase, mode, a, clause.variables);
            })
            .filter((r): r is Rx => r !== null);
        return alts.length === 0 ? null : rx.altOf(alts);
    };
    // ASCII values: one automaton per distinct pattern per process (reused, with its explored states, by every
    // document that writes the same values).
    const ascii = sharedAlphabetFor(clause.values);
    const r = build(ascii ?? alphabet);
    if (r === null) return NONE;
    if (ascii) {
        const key = `${like ? "L" : "E"}${ignoreCase ? "i" : "c"}${mode === "over" ? "o" : "u"}${clause.variables ? "" : "l"}${JSON.stringify(clause.values)}`;
        const dfa = sharedPatternDfa(key, clause.values, () => r, budget)!;
        // Each value's text before its first wildcard or variable is a literal head of its members (case matters).
        if (!ignoreCase) noteLiteralHeads(dfa, () => clause.values.map((v) => v.replace(/[*?$].*$/s, "")));
        return leaf(dfa);
    }
    return leaf(new LazyDfa(r, alphabet.width, OTHER, budget));
}

/** Longest text of an input (a key, a variable) a reading or an explanation quotes whole. */
const SHOWN_CHARS = 100;

/** `text` as a message quotes it: whole up to {@link SHOWN_CHARS} characters, else cut, saying how long it was. */
export function shown(text: string): string {
    return text.length <= SHOWN_CHARS ? text : `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)`;
}

/**
 * The policy variables in `values` whose value the analysis does not know (every `${...}` but the literal
 * characters `${*}`, `${?}` and `${$}`, as {@link globRx} reads them), each once, at most three.
 */
export function unknownVariables(values: readonly string[]): string[] {
    const found = new Set<string>();
    for (const v of values) {
        let at = v.indexOf("${");
        while (at >= 0 && found.size < 3) {
            const close = v.indexOf("}", at + 2);
            if (close < 0) break;
            const inner = v.slice(at + 2, close);
            if (inner !== "*" && inner !== "?" && inner !== "$") found.add(shown(v.slice(at, close + 1)));
            at = v.indexOf("${", close + 1);
        }
    }
    return [...found];
}

/** Whether `ForAnyValue:` combined with `...IfExists` is the operator: its value on an absent key is unclear. */
export function isAmbiguousOnAbsent(clause: Clause): boolean {
    return clause.operator.set === "ForAnyValue" && clause.operator.ifExists;
}

/**
 * Evaluates a clause on a key that Pulumi's tokens never carry. `ForAnyValue:` with `...IfExists` is unclear
 * (AWS documents IfExists as true on an absent key, ForAnyValue as false; an independent simulator and users'
 * reports read ForAnyValue as winning): the reading that lets more in is taken, true in an Allow (over) and
 * false in a Deny (under).
 */
function onAbsentKey(clause: Clause, mode: Mode): boolean {
    const op = clause.operator;
    if (op.family === "null") return clause.values.some((v) => v.toLowerCase() === "true");
    if (isAmbiguousOnAbsent(clause)) return mode === "over";
    if (op.ifExists) return true;
    if (op.set === "ForAllValues") return true;
    if (op.set === "ForAnyValue") return false;
    return op.negated;
}

const cache = new WeakMap<Statement, Map<string, Box>>();

/** The box of tokens of `issuer` that satisfy the statement's conditions, approximated per `mode`. */
export function conditionBox(statement: Statement, issuer: string, mode: Mode, alphabet: Alphabet, budget?: Budget): Box {
    const cacheKey = `${issuer}\u0000${mode}`;
    let perStatement = cache.get(statement);
    const known = perStatement?.get(cacheKey);
    if (known) return known;
    const box: Box = { aud: ALL, sub: ALL, possible: true, audClauses: [], subClauses: [], readings: [] };
    for (const clause of statement.clauses) {
        const kind = classifyKey(clause.key, issuer);
        const op = clause.operator;
        if (kind === "context") {
            if (mode === "under") {
                box.possible = false;
                box.readings.push(
                    `${op.written} on "${shown(clause.key)}" tests ${clause.key.toLowerCase().startsWith(`${issuer.toLowerCase()}:`) ? "a claim the analysis does not model" : "the request's context, which the analysis does not see"}: the Deny is taken as not applying (it does not stop a request that fails this condition)`,
                );
            }
            continue;
        }
        if (kind === "absent") {
            if (isAmbiguousOnAbsent(clause)) {
                box.readings.push(
                    mode === "over"
                        ? `${clause.operator.written} on "${clause.key}", a key the token does not carry, is read as true (IAM's reading of ForAnyValue with IfExists on an absent key is unclear; an Allow is assumed to apply)`
                        : `${clause.operator.written} on "${clause.key}", a key the token does not carry, is read as false (IAM's reading of ForAnyValue with IfExists on an absent key is unclear; a Deny is assumed not to apply)`,
                );
            }
            if (!onAbsentKey(clause, mode)) {
                box.possible = false;
                box.shutBy ??= clause;
            }
            continue;
        }
        (kind === "aud" ? box.audClauses : box.subClauses).push(clause);
        let constraint: Lang;
        if (op.family === "null") {
            // aud and sub are always present: "false" (key present) holds, "true" does not.
            constraint = clause.values.some((v) => v.toLowerCase() === "false") ? ALL : NONE;
        } else if (op.family === "other") {
            // IAM documents these operators on numbers, dates, booleans, binary values, IP addresses and ARNs, not
            // what they do to a string claim: the reading that lets more in is taken, and said.
            box.readings.push(
                `${op.written} on "${shown(clause.key)}" is not a string operator, and IAM does not document its result on this claim (a string): ${mode === "over" ? "it is read as true (an Allow is assumed to apply)" : "it is read as false (a Deny is assumed not to apply)"}`,
            );
            if (mode === "under") box.possible = false;
            continue;
        } else {
            const valuesMode: Mode = op.negated ? (mode === "over" ? "under" : "over") : mode;
            const variables = clause.variables ? unknownVariables(clause.values) : [];
            if (variables.length > 0) {
                box.readings.push(
                    `${variables.map((v) => `"${v}"`).join(", ")} in ${op.written} on "${shown(clause.key)}" ${variables.length === 1 ? "is a policy variable" : "are policy variables"} whose value the analysis does not know: ${valuesMode === "over" ? "read as any text" : "the values that hold one are read as matching no token"}, the reading that lets more in`,
                );
            }
            const lang = valuesLang(clause, valuesMode, alphabet, budget);
            constraint = op.negated ? not(lang) : lang;
        }
        if (kind === "aud") box.aud = and(box.aud, constraint);
        else box.sub = and(box.sub, constraint);
    }
    if (box.aud.k === "none" || box.sub.k === "none") box.possible = false;
    if (!perStatement) {
        perStatement = new Map();
        cache.set(statement, perStatement);
    }
    perStatement.set(cacheKey, box);
    return box;
}
