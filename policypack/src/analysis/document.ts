/**
 * Reading a trust policy document into a checked model. Anything ambiguous or malformed throws
 * PolicyDocumentError naming the problem and where it is: the analysis fails closed on it.
 */

export class PolicyDocumentError extends Error {
    constructor(
        message: string,
        /** Path into the document, e.g. `Statement[0].Condition.StringLike`. */
        readonly path: string,
        readonly statementIndex?: number,
    ) {
        super(message);
        this.name = "PolicyDocumentError";
    }
}

export type StringOp =
    | "StringEquals"
    | "StringNotEquals"
    | "StringEqualsIgnoreCase"
    | "StringNotEqualsIgnoreCase"
    | "StringLike"
    | "StringNotLike";

export interface Operator {
    /** As written, e.g. `ForAnyValue:StringEqualsIfExists`. */
    written: string;
    family: "string" | "null" | "other";
    /** For the string family. */
    stringOp?: StringOp;
    negated: boolean;
    ifExists: boolean;
    set: "ForAllValues" | "ForAnyValue" | null;
}

export interface Clause {
    operator: Operator;
    /** The key as written. */
    key: string;
    values: string[];
    path: string;
    /**
     * Whether `${…}` in its values is a policy variable: only in a document of `Version` `2012-10-17`. In one of
     * `2008-10-17`, or with no `Version` (which IAM reads as `2008-10-17`), it is literal text.
     */
    variables: boolean;
}

export interface PrincipalSpec {
    /** `Principal` or `NotPrincipal`. */
    kind: "Principal" | "NotPrincipal";
    /** The element is the string `"*"`. */
    star: boolean;
    /** `{"AWS": "*"}` (or a list holding `"*"`). */
    awsStar: boolean;
    /** Values of `Federated` (may include `"*"`). */
    federated: string[];
}

export interface Statement {
    index: number;
    path: string;
    effect: "Allow" | "Deny";
    principal: PrincipalSpec;
    /** Action globs, or NotAction globs when `notAction` is true. */
    actions: string[];
    notAction: boolean;
    clauses: Clause[];
}

const STRING_OPS: readonly StringOp[] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
];
const OTHER_OPS = [
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
];
const NEGATED_OTHER = new Set(["numericnotequals", "datenotequals", "notipaddress", "arnnotequals", "arnnotlike"]);

/** Parses a condition operator name (case-insensitively); null when unknown. */
export function parseOperator(written: string): Operator | null {
    let rest = written;
    let set: Operator["set"] = null;
    const colon = rest.indexOf(":");
    if (colon >= 0) {
        const prefix = rest.slice(0, colon).toLowerCase();
        if (prefix === "forallvalues") set = "ForAllValues";
        else if (prefix === "foranyvalue") set = "ForAnyValue";
        else return null;
        rest = rest.slice(colon + 1);
    }
    let ifExists = false;
    if (rest.toLowerCase().endsWith("ifexists")) {
        ifExists = true;
        rest = rest.slice(0, -"IfExists".length);
    }
    const lower = rest.toLowerCase();
    if (lower === "null") {
        if (ifExists || set) return null;
        return { written, family: "null", negated: false, ifExists: false, set: null };
    }
    const stringOp = STRING_OPS.find((o) => o.toLowerCase() === lower);
    if (stringOp) {
        return { written, family: "string", stringOp, negated: stringOp.includes("Not"), ifExists, set };
    }
    if (OTHER_OPS.some((o) => o.toLowerCase() === lower)) {
        return { written, family: "other", negated: NEGATED_OTHER.has(lower), ifExists, set };
    }
    return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function describe(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function stringList(v: unknown, path: string, index: number, what: string): string[] {
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0) throw new PolicyDocumentError(`${what} is an empty array`, path, index);
    return list.map((x, i) => {
        if (typeof x !== "string") {
            throw new PolicyDocumentError(
                `${what} must be a string or an array of strings, found ${describe(x)}`,
                Array.isArray(v) ? `${path}[${i}]` : path,
                index,
            );
        }
        return x;
    });
}

function parsePrincipal(kind: "Principal" | "NotPrincipal", v: unknown, path: string, index: number): PrincipalSpec {
    if (v === "*") return { kind, star: true, awsStar: false, federated: [] };
    if (!isRecord(v)) {
        throw new PolicyDocumentError(`${kind} must be "*" or an object, found ${describe(v)}`, path, index);
    }
    const spec: PrincipalSpec = { kind, star: false, awsStar: false, federated: [] };
    for (const [k, val] of Object.entries(v)) {
        const values = stringList(val, `${path}.${k}`, index, `${kind}.${k}`);
        if (k === "Federated") for (const f of values) spec.federated.push(f);
        else if (k === "AWS" && values.includes("*")) spec.awsStar = true;
        else if (!["AWS", "Service", "CanonicalUser"].includes(k)) {
            throw new PolicyDocumentError(`unknown principal type "${k}" in ${kind}`, `${path}.${k}`, index);
        }
    }
    return spec;
}

function parseConditions(v: unknown, path: string, index: number, variables: boolean): Clause[] {
    if (v === undefined) return [];
    if (!isRecord(v)) throw new PolicyDocumentError(`Condition must be an object, found ${describe(v)}`, path, index);
    const clauses: Clause[] = [];
    for (const [opName, block] of Object.entries(v)) {
        const opPath = `${path}.${opName}`;
        const operator = parseOperator(opName);
        if (!operator) throw new PolicyDocumentError(`unknown condition operator "${opName}"`, opPath, index);
        if (!isRecord(block)) {
            throw new PolicyDocumentError(`condition operator ${opName} must map keys to values, found ${describe(block)}`, opPath, index);
        }
        const seen = new Map<string, string>();
        for (const [key, raw] of Object.entries(block)) {
            const keyPath = `${opPath}[${JSON.stringify(key)}]`;
            const prior = seen.get(key.toLowerCase());
            if (prior !== undefined) {
                throw new PolicyDocumentError(
                    `condition key "${key}" appears twice under ${opName} (also as "${prior}"): keys are case-insensitive, so which value applies is ambiguous`,
                    keyPath,
                    index,
                );
            }
            seen.set(key.toLowerCase(), key);
            const list = Array.isArray(raw) ? raw : [raw];
            if (list.length === 0) throw new PolicyDocumentError(`condition ${opName} on "${key}" has an empty value list`, keyPath, index);
            const values = list.map((x) => {
                if (typeof x === "string") return x;
                if (typeof x === "number" || typeof x === "boolean") return String(x);
                throw new PolicyDocumentError(
                    `condition ${opName} on "${key}" has a value that is ${describe(x)}; values are strings, numbers or booleans`,
                    keyPath,
                    index,
                );
            });
            if (operator.family === "null" && values.some((x) => !/^(true|false)$/i.test(x))) {
                throw new PolicyDocumentError(`Null condition on "${key}" must be "true" or "false"`, keyPath, index);
            }
            clauses.push({ operator, key, values, path: keyPath, variables });
        }
    }
    return clauses;
}

function parseStatement(v: unknown, index: number, path: string, variables: boolean): Statement {
    if (!isRecord(v)) throw new PolicyDocumentError(`a statement must be an object, found ${describe(v)}`, path, index);
    const effect = v.Effect;
    if (effect !== "Allow" && effect !== "Deny") {
        throw new PolicyDocumentError(
            effect === undefined ? "Effect is missing" : `Effect must be "Allow" or "Deny", found ${JSON.stringify(effect)}`,
            `${path}.Effect`,
            index,
        );
    }
    const hasP = "Principal" in v;
    const hasNP = "NotPrincipal" in v;
    if (hasP === hasNP) {
        throw new PolicyDocumentError(
            hasP ? "a statement cannot have both Principal and NotPrincipal" : "a trust policy statement needs a Principal",
            path,
            index,
        );
    }
    const principal = hasP
        ? parsePrincipal("Principal", v.Principal, `${path}.Principal`, index)
        : parsePrincipal("NotPrincipal", v.NotPrincipal, `${path}.NotPrincipal`, index);
    const hasA = "Action" in v;
    const hasNA = "NotAction" in v;
    if (hasA === hasNA) {
        throw new PolicyDocumentError(
            hasA ? "a statement cannot have both Action and NotAction" : "a statement needs an Action or NotAction",
            path,
            index,
        );
    }
    const actions = hasA
        ? stringList(v.Action, `${path}.Action`, index, "Action")
        : stringList(v.NotAction, `${path}.NotAction`, index, "NotAction");
    const clauses = parseConditions(v.Condition, `${path}.Condition`, index, variables);
    return { index, path, effect, principal, actions, notAction: hasNA, clauses };
}

/** Parses a trust policy (already JSON-decoded). */
export function parseDocument(doc: unknown): Statement[] {
    if (!isRecord(doc)) throw new PolicyDocumentError(`a policy document must be a JSON object, found ${describe(doc)}`, "");
    const st = doc.Statement;
    if (st === undefined) throw new PolicyDocumentError("the document has no Statement", "Statement");
    // IAM reads policy variables only in a document of version 2012-10-17; any other value it refuses, and is read
    // here as that version's (a variable stands for any text in an Allow: the reading that lets more in).
    const variables = doc.Version !== undefined && doc.Version !== "2008-10-17";
    if (Array.isArray(st)) return st.map((s, i) => parseStatement(s, i, `Statement[${i}]`, variables));
    if (isRecord(st)) return [parseStatement(st, 0, "Statement", variables)];
    throw new PolicyDocumentError(`Statement must be an object or an array, found ${describe(st)}`, "Statement");
}

/** IAM action glob match, case-insensitive, `*` any run and `?` one character. */
export function actionMatches(pattern: string, action: string): boolean {
    const p = pattern.toLowerCase();
    const a = action.toLowerCase();
    // Iterative glob matching with backtracking on the last star.
    let pi = 0;
    let ai = 0;
    let star = -1;
    let mark = 0;
    while (ai < a.length) {
        if (pi < p.length && (p[pi] === "?" || p[pi] === a[ai])) {
            pi++;
            ai++;
        } else if (pi < p.length && p[pi] === "*") {
            star = pi++;
            mark = ai;
        } else if (star >= 0) {
            pi = star + 1;
            ai = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.length && p[pi] === "*") pi++;
    return pi === p.length;
}
