/**
 * Property-based tests of analyzeTrustPolicy against the independent reference evaluator
 * (policypack/src/testing/reference-evaluator.ts). Documents are built from realistic pieces: Pulumi, GitHub and
 * wildcard principals, action variants, and condition blocks whose values are literals and globs around
 * `acme`/`aws:acme`/`pulumi:environments:org:acme:env:payments/...`. Run counts are bounded: the file takes seconds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { analyzeTrustPolicy, UNKNOWN_SENTINELS, type AnalysisOptions, type PulumiToken, type TrustAnalysis } from "./index.js";
import {
    candidateTokens,
    checkAgainstCandidates,
    checkCounterexamples,
    compileEvaluator,
    describeFinding,
    inScope,
    inUniverse,
    kindsOf,
} from "../testing/reference-evaluator.js";
import { BLAST_CLASSES } from "./grammar.js";

const V1 = "api.pulumi.com/oidc";
const V2 = "api.pulumi.com/oidc/v2";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const PROVIDER_V2 = `arn:aws:iam::123456789012:oidc-provider/${V2}`;
const GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const WEB = "sts:AssumeRoleWithWebIdentity";
const VERDICTS = new Set(["pass", "fail", "unknown", "error"]);

// ---------------------------------------------------------------------------------------------------------------
// Generators

const AUD_VALUES = ["aws:acme", "acme", "aws:acme*", "acme*", "aws:acm?", "aws:*", "*", "aws:globex", "aws:acme-evil", "aws:${aws:username}", "aws:acme${*}"];
const SUB_VALUES = [
    "pulumi:environments:org:acme:env:payments/prod",
    "pulumi:environments:org:acme:env:payments/*",
    "pulumi:environments:org:acme:env:payments/prod-*",
    "pulumi:environments:org:acme:env:pay*",
    "pulumi:environments:org:acme:env:pay?ents/prod",
    "pulumi:environments:org:acme:env:*",
    "pulumi:environments:org:acme:*",
    "pulumi:environments:org:*",
    "pulumi:environments:org:acme:env:prod",
    "pulumi:environments:org:acme:env:<yaml>",
    "pulumi:environments:org:globex:env:payments/prod",
    "pulumi:deploy:org:acme:project:infra:stack:prod:*",
    "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write",
    "pulumi:deploy:org:acme:project:infra:*",
    "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/*",
    "pulumi:*:org:acme:env:payments/prod",
    "pulumi:environments:org:acme:env:payments/${aws:username}",
    "pulumi:cmk:pulumi.organization.login:acme",
    "pulumi:cmk:*",
    "pulumi:insights:org:acme:*",
    "pulumi:environments:pulumi.organization.login:acme:pulumi.user.login:alice",
    "pulumi:deploy:org:acme:project:*",
    "*",
];
const OTHER_VALUES = ["x", "repo:acme/app:*", "sts.amazonaws.com", "10.0.0.0/8"];

/** Condition keys, by kind; keys of one kind differ only in case, so a block takes at most one of each kind. */
const KEYS: { key: string; values: readonly string[] }[] = [
    { key: `${V1}:aud`, values: AUD_VALUES },
    { key: "API.PULUMI.COM/OIDC:AUD", values: AUD_VALUES },
    { key: `${V1}:sub`, values: SUB_VALUES },
    { key: "Api.Pulumi.Com/oidc:Sub", values: SUB_VALUES },
    { key: "token.actions.githubusercontent.com:sub", values: OTHER_VALUES },
    { key: "aws:SourceIp", values: OTHER_VALUES },
    { key: `${V1}:sbu`, values: SUB_VALUES },
    { key: `${V1}:amr`, values: OTHER_VALUES },
];
const STRING_OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringEqualsIfExists",
    "StringLikeIfExists",
    "StringNotLikeIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotLike",
];
const OPERATORS = [...STRING_OPERATORS, ...STRING_OPERATORS, "Null", "NumericEquals", "IpAddress"];

function valuesFor(op: string, values: readonly string[]): fc.Arbitrary<string | string[]> {
    if (op === "Null") return fc.constantFrom("true", "false");
    if (op === "NumericEquals" || op === "IpAddress") return fc.constant("1");
    const one = fc.constantFrom(...values);
    return fc.oneof(one, fc.uniqueArray(one, { minLength: 1, maxLength: 3 }));
}

const blockArb = (op: string): fc.Arbitrary<Record<string, string | string[]>> =>
    fc
        .uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 2, selector: (k) => k.key.toLowerCase() })
        .chain((keys) => fc.tuple(...keys.map((k) => valuesFor(op, k.values))).map((vals) => Object.fromEntries(keys.map((k, i) => [k.key, vals[i]!]))));

const conditionArb: fc.Arbitrary<Record<string, Record<string, string | string[]>>> = fc
    .uniqueArray(fc.constantFrom(...OPERATORS), { minLength: 0, maxLength: 3 })
    .chain((ops) => fc.tuple(...ops.map(blockArb)).map((blocks) => Object.fromEntries(ops.map((op, i) => [op, blocks[i]!]))));

const ALLOW_PRINCIPALS: Record<string, unknown>[] = [
    { Principal: { Federated: PROVIDER } },
    { Principal: { Federated: PROVIDER } },
    { Principal: { Federated: PROVIDER } },
    { Principal: "*" },
    { Principal: { AWS: "*" } },
    { Principal: { Federated: "*" } },
    { Principal: { Federated: [GITHUB, PROVIDER] } },
    { Principal: { Federated: GITHUB } },
    { Principal: { Federated: PROVIDER_V2 } },
    { Principal: { Federated: `arn:aws-us-gov:iam::123456789012:oidc-provider/${V1}` } },
];
const DENY_PRINCIPALS: Record<string, unknown>[] = [{ Principal: "*" }, { Principal: { Federated: PROVIDER } }];
const ACTIONS: Record<string, unknown>[] = [
    { Action: WEB },
    { Action: WEB },
    { Action: "sts:AssumeRole*" },
    { Action: "sts:*" },
    { Action: "*" },
    { Action: "sts:AssumeRole" },
    { Action: ["sts:TagSession", WEB] },
    { NotAction: "sts:TagSession" },
    { NotAction: WEB },
];

const statementArb: fc.Arbitrary<Record<string, unknown>> = fc
    .record({
        effect: fc.constantFrom("Allow", "Allow", "Allow", "Deny"),
        allowPrincipal: fc.constantFrom(...ALLOW_PRINCIPALS),
        denyPrincipal: fc.constantFrom(...DENY_PRINCIPALS),
        action: fc.constantFrom(...ACTIONS),
        condition: conditionArb,
    })
    .map(({ effect, allowPrincipal, denyPrincipal, action, condition }) => ({
        Effect: effect,
        ...(effect === "Allow" ? allowPrincipal : denyPrincipal),
        ...action,
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    }));

/** Valid trust policies built from realistic pieces: an array of 1–3 statements, or a single statement object. */
const documentArb: fc.Arbitrary<Record<string, unknown>> = fc
    .tuple(fc.array(statementArb, { minLength: 1, maxLength: 3 }), fc.boolean())
    // Cloned: the pieces are shared constants, and some properties below edit the document in place.
    .map(([statements, single]) =>
        structuredClone({
            Version: "2012-10-17",
            Statement: single && statements.length === 1 ? statements[0] : statements,
        }),
    );

/** Names that hit the patterns above: the literal ones, their near misses, and other organizations. */
const nameArb = fc.oneof(
    fc.constantFrom("acme", "acme-evil", "acmex", "acm", "ACME", "globex", "payments", "payroll", "pay", "paymentsx", "prod", "prod-eu", "dev", "infra", "o1"),
    fc.stringMatching(/^[A-Za-z0-9_.-]{1,6}$/),
);
const v1TokenArb: fc.Arbitrary<PulumiToken> = fc
    .record({
        aud: fc.oneof(nameArb, nameArb.map((n) => `aws:${n}`)),
        org: fc.oneof(fc.constant("acme"), nameArb),
        a: nameArb,
        b: nameArb,
        c: nameArb,
        op: fc.constantFrom("preview", "update", "refresh", "destroy"),
        form: fc.integer({ min: 0, max: 8 }),
    })
    .map(({ aud, org, a, b, c, op, form }) => {
        const subs = [
            `pulumi:environments:org:${org}:env:${a}/${b}`,
            `pulumi:environments:org:${org}:env:${a}`,
            `pulumi:environments:org:${org}:env:<yaml>`,
            `pulumi:deploy:org:${org}:project:${a}:stack:${b}:operation:${op}:scope:write`,
            `pulumi:environments:pulumi.organization.login:${org}:currentEnvironment.name:${a}/${b}`,
            `pulumi:environments:pulumi.organization.login:${c}:org:${org}:env:${a}/${b}`,
            `pulumi:cmk:pulumi.organization.login:${org}`,
            `pulumi:insights:org:${org}:account:${a}`,
            `pulumi:environments:pulumi.organization.login:${org}:pulumi.user.login:${a}`,
        ];
        return { issuer: V1, aud, sub: subs[form]! };
    });
const v2TokenArb: fc.Arbitrary<PulumiToken> = fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), nameArb, nameArb)
    .map(([aud, org, env]) => ({ issuer: V2, aud, sub: `pulumi:org:${org}:env:${env}` }));
const tokenArb = fc.oneof({ weight: 5, arbitrary: v1TokenArb }, { weight: 1, arbitrary: v2TokenArb });

const optionsArb: fc.Arbitrary<AnalysisOptions> = fc.record(
    {
        organizations: fc.constantFrom(["acme"], ["acme", "globex"]),
        allowedSubjects: fc.constantFrom(
            ["pulumi:environments:org:acme:env:payments/*"],
            ["pulumi:environments:org:acme:env:payments/prod", "pulumi:deploy:org:acme:project:infra:stack:prod:*"],
            // `?` is one character, `*` any run, in allowedSubjects as in condition values (one glob compiler).
            ["pulumi:environments:org:acme:env:pay?ents/pro?"],
            ["pulumi:environments:org:acme:env:payments/prod-??", "pulumi:deploy:org:acme:project:infra:stack:?rod:*"],
        ),
        subjectScope: fc.constantFrom("project" as const, "environment" as const),
    },
    { requiredKeys: [] },
);

const PINNED_OPTIONS: AnalysisOptions = {
    organizations: ["acme"],
    allowedSubjects: ["pulumi:environments:org:acme:env:payments/*", "pulumi:deploy:org:acme:project:infra:stack:prod:*"],
};
/** With `?` in allowedSubjects: reading `?` as `*` there would let `payments/prod-eu` and `pay/prod` through. */
const QUESTION_OPTIONS: AnalysisOptions = {
    organizations: ["acme"],
    allowedSubjects: ["pulumi:environments:org:acme:env:pay?ents/pro?", "pulumi:deploy:org:acme:project:infra:stack:pro?:*"],
};

function analyze(doc: unknown, options: AnalysisOptions = {}): TrustAnalysis {
    try {
        return analyzeTrustPolicy(doc, options);
    } catch (e) {
        assert.fail(`analyzeTrustPolicy threw on ${JSON.stringify(doc)?.slice(0, 400)}: ${String(e)}`);
    }
}

function assertWellFormed(r: TrustAnalysis): void {
    assert.ok(VERDICTS.has(r.verdict), `verdict ${String(r.verdict)}`);
    assert.ok(Array.isArray(r.findings) && Array.isArray(r.notes) && Array.isArray(r.admitted));
    if (r.verdict === "error") assert.ok(r.findings.some((f) => f.ruleId === "oidc-trust-document-valid"), "error without a document-valid finding");
    if (r.verdict === "fail") assert.ok(r.findings.length > 0, "fail without findings");
}

// ---------------------------------------------------------------------------------------------------------------

describe("analyzeTrustPolicy never throws", () => {
    it("on arbitrary JSON values", () => {
        fc.assert(
            fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => assertWellFormed(analyze(v))),
            { numRuns: 300, includeErrorInReport: true },
        );
    });

    it("on arbitrary strings (JSON text or not)", () => {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.json({ maxDepth: 3 })), (s) => assertWellFormed(analyze(s))),
            { numRuns: 200, includeErrorInReport: true },
        );
    });

    it("on policy-shaped documents with arbitrary JSON in any statement field", () => {
        const field = fc.constantFrom("Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition", "Resource", "Sid");
        fc.assert(
            fc.property(documentArb, field, fc.jsonValue({ maxDepth: 3 }), optionsArb, (doc, k, junk, options) => {
                const statements = Array.isArray(doc.Statement) ? (doc.Statement as Record<string, unknown>[]) : [doc.Statement as Record<string, unknown>];
                statements[0]![k] = junk;
                assertWellFormed(analyze(doc, options));
                assertWellFormed(analyze(JSON.stringify(doc), options));
            }),
            { numRuns: 100, includeErrorInReport: true },
        );
    });
});

describe("malformed documents fail closed (verdict error)", () => {
    type Mutation = (doc: Record<string, unknown>) => unknown;
    const first = (doc: Record<string, unknown>): Record<string, unknown> =>
        (Array.isArray(doc.Statement) ? doc.Statement[0] : doc.Statement) as Record<string, unknown>;
    const withCondition = (doc: Record<string, unknown>): Record<string, Record<string, unknown>> => {
        const st = first(doc);
        st.Condition ??= { StringEquals: { [`${V1}:aud`]: "aws:acme" } };
        return st.Condition as Record<string, Record<string, unknown>>;
    };
    const firstBlock = (doc: Record<string, unknown>): Record<string, unknown> => {
        const cond = withCondition(doc);
        const op = Object.keys(cond)[0]!;
        return cond[op]!;
    };
    const mutations: Record<string, Mutation> = {
        "invalid JSON text": (d) => JSON.stringify(d).slice(0, -1),
        "not an object": (d) => [d],
        "a number": () => 42,
        "Statement missing": (d) => ({ Version: d.Version }),
        "Statement a string": (d) => ({ ...d, Statement: "Allow" }),
        "Statement a number": (d) => ({ ...d, Statement: 1 }),
        "Effect Permit": (d) => (first(d).Effect = "Permit", d),
        "unknown operator": (d) => (withCondition(d).StringEqual = { [`${V1}:sub`]: "x" }, d),
        "unknown qualified operator": (d) => (withCondition(d)["ForAnyValue:StringEqual"] = { [`${V1}:sub`]: "x" }, d),
        "key twice differing in case": (d) => {
            const block = firstBlock(d);
            const key = Object.keys(block)[0]!;
            block[key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase()] = block[key];
            return d;
        },
        "object value": (d) => ((firstBlock(d)[`${V1}:sub`] = { v: "x" }), d),
        "null value": (d) => ((firstBlock(d)[`${V1}:sub`] = null), d),
        "empty value list": (d) => ((firstBlock(d)[`${V1}:sub`] = []), d),
        "nested value list": (d) => ((firstBlock(d)[`${V1}:sub`] = [["x"]]), d),
        "Principal a number": (d) => ((first(d).Principal = 42), d),
        "Principal an array": (d) => ((first(d).Principal = [PROVIDER]), d),
        "Principal value a number": (d) => ((first(d).Principal = { Federated: 7 }), d),
        "Action a number": (d) => {
            const st = first(d);
            delete st.NotAction;
            st.Action = 42;
            return d;
        },
        "Action list with a number": (d) => {
            const st = first(d);
            delete st.NotAction;
            st.Action = [WEB, 1];
            return d;
        },
    };
    for (const [name, mutate] of Object.entries(mutations)) {
        it(name, () => {
            fc.assert(
                fc.property(documentArb, (doc) => {
                    const st = first(doc);
                    if (!("Principal" in st)) st.Principal = { Federated: PROVIDER };
                    const bad = mutate(doc);
                    const r = analyze(bad, PINNED_OPTIONS);
                    assert.equal(r.verdict, "error", `${name}: ${JSON.stringify(bad).slice(0, 300)}\n  ${r.findings.map(describeFinding).join("\n  ")}`);
                    assertWellFormed(r);
                }),
                { numRuns: 15, includeErrorInReport: true },
            );
        });
    }
});

describe("values unknown at preview are reported, never passed", () => {
    it("a sentinel anywhere in a valid document gives verdict unknown", () => {
        fc.assert(
            fc.property(documentArb, fc.constantFrom(...UNKNOWN_SENTINELS), fc.nat(), fc.boolean(), (doc, sentinel, pick, asString) => {
                // Replace one string leaf of the document (chosen by `pick`) with the sentinel.
                const leaves: [Record<string, unknown> | unknown[], string | number][] = [];
                const walk = (v: unknown): void => {
                    if (Array.isArray(v)) v.forEach((x, i) => (typeof x === "string" ? leaves.push([v, i]) : walk(x)));
                    else if (v && typeof v === "object") {
                        for (const [k, x] of Object.entries(v)) {
                            if (typeof x === "string") leaves.push([v as Record<string, unknown>, k]);
                            else walk(x);
                        }
                    }
                };
                walk(doc.Statement);
                const [holder, at] = leaves[pick % leaves.length]!;
                (holder as Record<string | number, unknown>)[at] = sentinel;
                const r = analyze(asString ? JSON.stringify(doc) : doc, PINNED_OPTIONS);
                assert.equal(r.verdict, "unknown", JSON.stringify(doc));
                assert.ok(r.findings.some((f) => f.ruleId === "oidc-trust-unknown-at-preview"));
            }),
            { numRuns: 60, includeErrorInReport: true },
        );
    });
});

describe("every counterexample is admitted by the reference evaluator", () => {
    it("on generated documents under random options", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, (doc, options) => {
                const r = analyze(doc, options);
                assertWellFormed(r);
                assert.ok(r.verdict === "pass" || r.verdict === "fail", `verdict ${r.verdict} on a valid document: ${r.findings.map(describeFinding).join("; ")}`);
                checkCounterexamples(doc, options, r);
            }),
            { numRuns: 100, includeErrorInReport: true },
        );
    });
});

describe("a document judged pass lets no token outside the pin in", () => {
    for (const [label, PINNED] of [
        ["allowedSubjects with *", PINNED_OPTIONS],
        ["allowedSubjects with ?", QUESTION_OPTIONS],
    ] as const)
    it(`organizations [acme] and ${label}: random and derived tokens`, () => {
        const PINNED_OPTIONS = PINNED;
        fc.assert(
            fc.property(documentArb, fc.array(tokenArb, { maxLength: 25 }), (doc, randomTokens) => {
                const r = analyze(doc, PINNED_OPTIONS);
                assert.ok(r.verdict === "pass" || r.verdict === "fail", `verdict ${r.verdict} on a valid document`);
                const decide = compileEvaluator(doc);
                const tokens = [...randomTokens.filter((t) => inUniverse(t)), ...candidateTokens(doc)];
                const admitted = tokens.filter((t) => decide(t) === "allow");
                if (admitted.length > 0) assert.equal(r.usableFromPulumi, true, `usableFromPulumi false, yet ${JSON.stringify(admitted[0])} gets in`);
                if (r.verdict === "pass") {
                    const escaped = admitted.find((t) => !inScope(t, PINNED_OPTIONS));
                    assert.equal(escaped, undefined, `pass, but the reference evaluator lets ${JSON.stringify(escaped)} in`);
                } else {
                    // fail: each counterexample is admitted and outside the pin (checked rule by rule).
                    checkCounterexamples(doc, PINNED_OPTIONS, r);
                    for (const f of r.findings) {
                        if (f.counterexample && !f.advisory) {
                            assert.ok(!inScope(f.counterexample, PINNED_OPTIONS), `counterexample inside the pin: ${describeFinding(f)}`);
                        }
                    }
                }
                checkAgainstCandidates(doc, PINNED_OPTIONS, r);
            }),
            { numRuns: 120, includeErrorInReport: true },
        );
    });
});

describe("every token printed anywhere is one Pulumi can issue (one kind, its paired audience)", () => {
    it("findings, blast radius entries and admitted kinds, under both subject scopes", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, (doc, options) => {
                const r = analyze(doc, options);
                for (const f of r.findings) {
                    const tokens = [...(f.counterexample ? [f.counterexample] : []), ...(f.blastRadius ?? []).map((b) => b.counterexample)];
                    for (const t of tokens) assert.ok(inUniverse(t), `not issuable: ${JSON.stringify(t)} in ${describeFinding(f)}`);
                    if (f.counterexample && f.tokenKind !== "v2") {
                        assert.ok(f.tokenKind && (kindsOf(f.counterexample) as string[]).includes(f.tokenKind), `kind ${f.tokenKind} of ${JSON.stringify(f.counterexample)}`);
                    }
                    const order = (f.blastRadius ?? []).map((b) => BLAST_CLASSES.indexOf(b.class));
                    assert.deepEqual(order, [...order].sort((x, y) => x - y), "blast radius worst first");
                }
                // Advisory findings never decide the verdict.
                if (r.findings.every((f) => f.advisory)) assert.notEqual(r.verdict, "fail");
                checkCounterexamples(doc, options, r);
            }),
            { numRuns: 100, includeErrorInReport: true },
        );
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Metamorphic: forms IAM reads as the same policy get the same judgement (and the caches, keyed by text, shape and
// statement, must not tell them apart).

type Doc = Record<string, unknown>;
type StatementObject = Record<string, unknown>;

function statementsOf(doc: Doc): StatementObject[] {
    return Array.isArray(doc.Statement) ? (doc.Statement as StatementObject[]) : [doc.Statement as StatementObject];
}

/** Each statement's Condition rebuilt by `edit(operator, block)`, which returns the operator's new entries. */
function mapConditions(doc: Doc, edit: (op: string, block: Record<string, unknown>) => [string, Record<string, unknown>][]): Doc {
    const out = structuredClone(doc);
    for (const st of statementsOf(out)) {
        const cond = st.Condition as Record<string, Record<string, unknown>> | undefined;
        if (!cond) continue;
        st.Condition = Object.fromEntries(Object.entries(cond).flatMap(([op, block]) => edit(op, block)));
    }
    return out;
}

/**
 * What a finding decides, without where it points (a reordering moves statements) or how the first token was picked.
 * `oidc-trust-unusable` is said of the whole document: it names every statement a claim the tokens do not carry
 * shuts, and points at the first of them in the document's order, so only its presence is compared.
 */
function judgement(r: TrustAnalysis, index: (i: number) => number = (i) => i): { verdict: string; usable: boolean | undefined; findings: string[] } {
    const at = (f: TrustAnalysis["findings"][number]): string =>
        f.ruleId === "oidc-trust-unusable" || f.location?.statementIndex === undefined ? "-" : String(index(f.location.statementIndex));
    return {
        verdict: r.verdict,
        usable: r.usableFromPulumi,
        findings: r.findings.map((f) => `${f.ruleId}@${at(f)}`).sort(),
    };
}

/** The result without the document's own spelling of paths and condition keys (which a finding quotes as written). */
function spelled(r: TrustAnalysis): unknown {
    return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === "path" || k === "conditionKey" || k === "message" || k === "readings" ? undefined : v)));
}

const flipsArb = fc.array(fc.boolean(), { minLength: 16, maxLength: 16 });

function recase(text: string, flips: readonly boolean[]): string {
    return Array.from(text, (c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join("");
}

describe("forms IAM reads as the same policy get the same judgement", () => {
    it("the document, its JSON text compact and indented, and a second analysis of each (through the caches): the same result", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, (doc, options) => {
                const first = analyze(doc, options);
                for (const form of [doc, JSON.stringify(doc), JSON.stringify(doc, null, 2), `\n ${JSON.stringify(doc, null, "\t")}\n`, doc]) {
                    assert.deepEqual(analyze(form, options), first, typeof form === "string" ? form.slice(0, 300) : "the object again");
                }
            }),
            { numRuns: 60, includeErrorInReport: true },
        );
    });

    it("condition keys in any case (IAM's keys are case-insensitive): the same result but for the keys as written", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, flipsArb, (doc, options, flips) => {
                const other = mapConditions(doc, (op, block) => [[op, Object.fromEntries(Object.entries(block).map(([k, v]) => [recase(k, flips), v]))]]);
                assert.deepEqual(spelled(analyze(other, options)), spelled(analyze(doc, options)), JSON.stringify(other).slice(0, 400));
                assert.deepEqual(spelled(analyze(JSON.stringify(other), options)), spelled(analyze(doc, options)));
            }),
            { numRuns: 60, includeErrorInReport: true },
        );
    });

    it("a Sid on every statement, single values as one-element lists, and a single statement as a list of one: the same judgement", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, (doc, options) => {
                const other = mapConditions(doc, (op, block) => [[op, Object.fromEntries(Object.entries(block).map(([k, v]) => [k, typeof v === "string" ? [v] : v]))]]);
                const list = statementsOf(other);
                list.forEach((st, i) => {
                    st.Sid = `PulumiTrust${i}`;
                    if (typeof st.Action === "string") st.Action = [st.Action];
                    const p = st.Principal as Record<string, unknown> | string | undefined;
                    if (p && typeof p === "object" && typeof p.Federated === "string") p.Federated = [p.Federated];
                });
                other.Statement = list;
                assert.deepEqual(judgement(analyze(other, options)), judgement(analyze(doc, options)), JSON.stringify(other).slice(0, 400));
            }),
            { numRuns: 60, includeErrorInReport: true },
        );
    });

    it("statements, operators, keys and values in another order: the same judgement, on the moved statements", () => {
        fc.assert(
            fc.property(documentArb, optionsArb, (doc, options) => {
                const other = mapConditions(doc, (op, block) => [[op, Object.fromEntries(Object.entries(block).reverse().map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])].reverse() : v]))]]);
                for (const st of statementsOf(other)) {
                    if (st.Condition) st.Condition = Object.fromEntries(Object.entries(st.Condition).reverse());
                }
                const list = statementsOf(other);
                other.Statement = [...list].reverse();
                const n = list.length;
                assert.deepEqual(judgement(analyze(other, options), (i) => n - 1 - i), judgement(analyze(doc, options)), JSON.stringify(other).slice(0, 400));
            }),
            { numRuns: 60, includeErrorInReport: true },
        );
    });
});
