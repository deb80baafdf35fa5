/** Hand-written, table-driven tests of the reference evaluator itself: the oracle must be right before it judges. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { AnalysisOptions, PulumiToken } from "../analysis/types.js";
import {
    ReferenceDocumentError,
    evaluate,
    candidateTokens,
    globMatch,
    inScope,
    inUniverse,
    isProviderArnOf,
    parseOperator,
    type Decision,
} from "./reference-evaluator.js";

const V1 = "api.pulumi.com/oidc";
const V2 = "api.pulumi.com/oidc/v2";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const PROVIDER_V2 = `arn:aws:iam::123456789012:oidc-provider/${V2}`;
const GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const AUD = `${V1}:aud`;
const SUB = `${V1}:sub`;
const WEB = "sts:AssumeRoleWithWebIdentity";

const ESC: PulumiToken = { issuer: V1, aud: "aws:acme", sub: "pulumi:environments:org:acme:env:payments/prod" };
const tok = (aud: string, sub: string, issuer = V1): PulumiToken => ({ issuer, aud, sub });

function allowDoc(condition?: Record<string, unknown>, principal: unknown = { Federated: PROVIDER }): unknown {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: principal, Action: WEB, ...(condition ? { Condition: condition } : {}) }],
    };
}

describe("globMatch (StringLike syntax)", () => {
    const rows: [string, string, boolean][] = [
        ["", "", true],
        ["", "a", false],
        ["*", "", true],
        ["*", "anything:at/all", true],
        ["a*", "a", true],
        ["a*", "", false],
        ["a?c", "abc", true],
        ["a?c", "ac", false],
        ["a?c", "abbc", false],
        ["a*c", "a:b/c", true],
        ["a*c", "a:b/cd", false],
        ["**", "x", true],
        ["*a*a*", "banana", true],
        ["*a*a*a*a", "banana", false],
        ["acme", "ACME", false],
        ["pulumi:environments:org:acme:env:pay*", "pulumi:environments:org:acme:env:payroll/prod", true],
        ["pulumi:environments:org:acme:env:payments/*", "pulumi:environments:org:acme:env:payroll/prod", false],
        ["?", "é", true],
        ["?", "ab", false],
    ];
    for (const [glob, text, expected] of rows) {
        it(`${JSON.stringify(glob)} ${expected ? "matches" : "does not match"} ${JSON.stringify(text)}`, () => {
            assert.equal(globMatch(glob, text), expected);
        });
    }

    it("agrees with an anchored regular expression on random globs over a small alphabet", () => {
        const alpha = fc.constantFrom("a", "b", ":", "/");
        const glob = fc.array(fc.oneof(alpha, fc.constant("*"), fc.constant("?")), { maxLength: 8 }).map((a) => a.join(""));
        const text = fc.array(alpha, { maxLength: 10 }).map((a) => a.join(""));
        fc.assert(
            fc.property(glob, text, (g, t) => {
                const re = new RegExp(
                    "^" + Array.from(g).map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c === "/" ? "\\/" : c)).join("") + "$",
                );
                assert.equal(globMatch(g, t), re.test(t), `${g} vs ${t}`);
            }),
            { numRuns: 500 },
        );
    });
});

describe("parseOperator", () => {
    const rows: [string, ReturnType<typeof parseOperator>][] = [
        ["StringEquals", { qualifier: null, base: "StringEquals", ifExists: false }],
        ["StringLikeIfExists", { qualifier: null, base: "StringLike", ifExists: true }],
        ["ForAnyValue:StringEquals", { qualifier: "ForAnyValue", base: "StringEquals", ifExists: false }],
        ["ForAllValues:StringNotLikeIfExists", { qualifier: "ForAllValues", base: "StringNotLike", ifExists: true }],
        ["Null", { qualifier: null, base: "Null", ifExists: false }],
        ["NumericLessThanEquals", { qualifier: null, base: "NumericLessThanEquals", ifExists: false }],
        ["ArnLike", { qualifier: null, base: "ArnLike", ifExists: false }],
        ["StringEqual", null],
        ["stringequals", null],
        ["NullIfExists", null],
        ["ForAnyValue:Null", null],
        ["ForSomeValues:StringEquals", null],
        ["IfExists", null],
    ];
    for (const [op, expected] of rows) {
        it(`${op} → ${expected ? JSON.stringify(expected) : "unknown"}`, () => assert.deepEqual(parseOperator(op), expected));
    }
});

interface Row {
    name: string;
    condition: Record<string, unknown>;
    token?: PulumiToken;
    expected: Decision;
}

describe("evaluate: condition operators on one Allow statement", () => {
    const rows: Row[] = [
        { name: "no condition", condition: {}, expected: "allow" },
        { name: "StringEquals hit", condition: { StringEquals: { [AUD]: "aws:acme" } }, expected: "allow" },
        { name: "StringEquals miss", condition: { StringEquals: { [AUD]: "acme" } }, expected: "deny" },
        { name: "StringEquals is case-sensitive", condition: { StringEquals: { [AUD]: "AWS:ACME" } }, expected: "deny" },
        { name: "StringEquals treats * literally", condition: { StringEquals: { [AUD]: "aws:*" } }, expected: "deny" },
        { name: "StringEquals values are OR", condition: { StringEquals: { [AUD]: ["acme", "aws:acme"] } }, expected: "allow" },
        {
            name: "StringEquals keys are AND (one misses)",
            condition: { StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:acme:env:payments/dev" } },
            expected: "deny",
        },
        {
            name: "operators are AND",
            condition: { StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "*:env:payroll/*" } },
            expected: "deny",
        },
        { name: "StringNotEquals listed", condition: { StringNotEquals: { [AUD]: "aws:acme" } }, expected: "deny" },
        { name: "StringNotEquals unlisted", condition: { StringNotEquals: { [AUD]: ["acme", "aws:globex"] } }, expected: "allow" },
        { name: "StringEqualsIgnoreCase", condition: { StringEqualsIgnoreCase: { [AUD]: "AWS:Acme" } }, expected: "allow" },
        { name: "StringNotEqualsIgnoreCase", condition: { StringNotEqualsIgnoreCase: { [AUD]: "AWS:ACME" } }, expected: "deny" },
        { name: "StringLike * across : and /", condition: { StringLike: { [SUB]: "pulumi:*/prod" } }, expected: "allow" },
        { name: "StringLike ? one char", condition: { StringLike: { [AUD]: "aws:acm?" } }, expected: "allow" },
        { name: "StringLike ? not zero chars", condition: { StringLike: { [AUD]: "aws:acme?" } }, expected: "deny" },
        { name: "StringLike is case-sensitive", condition: { StringLike: { [AUD]: "AWS:*" } }, expected: "deny" },
        { name: "StringNotLike hit", condition: { StringNotLike: { [SUB]: "*:env:payments/*" } }, expected: "deny" },
        { name: "StringNotLike miss", condition: { StringNotLike: { [SUB]: "*:env:payroll/*" } }, expected: "allow" },
        { name: "upper-case key is the same key", condition: { StringEquals: { "API.PULUMI.COM/OIDC:AUD": "aws:acme" } }, expected: "allow" },
        {
            name: "upper-case key still compares values case-sensitively",
            condition: { StringEquals: { "API.PULUMI.COM/OIDC:AUD": "aws:ACME" } },
            expected: "deny",
        },
        { name: "StringEqualsIfExists on a present key acts as StringEquals", condition: { StringEqualsIfExists: { [AUD]: "acme" } }, expected: "deny" },
        { name: "ForAnyValue:StringEquals on a present key", condition: { "ForAnyValue:StringEquals": { [AUD]: "aws:acme" } }, expected: "allow" },
        { name: "ForAllValues:StringEquals on a present key", condition: { "ForAllValues:StringEquals": { [AUD]: "acme" } }, expected: "deny" },
        { name: "Null false on present key", condition: { Null: { [SUB]: "false" } }, expected: "allow" },
        { name: "Null true on present key", condition: { Null: { [SUB]: "true" } }, expected: "deny" },
        { name: "Null takes a boolean", condition: { Null: { [SUB]: false } }, expected: "allow" },
        { name: "number values are strings", condition: { StringEquals: { [AUD]: 42 } }, token: tok("42", ESC.sub), expected: "allow" },
        // absent keys: another issuer's, and a misspelt claim of this issuer
        { name: "positive on another issuer's key", condition: { StringEquals: { "token.actions.githubusercontent.com:sub": "x" } }, expected: "deny" },
        { name: "negated on another issuer's key", condition: { StringNotEquals: { "token.actions.githubusercontent.com:sub": "x" } }, expected: "allow" },
        { name: "StringNotLike on a misspelt key", condition: { StringNotLike: { [`${V1}:sbu`]: "*" } }, expected: "allow" },
        { name: "StringLike on a misspelt key", condition: { StringLike: { [`${V1}:sbu`]: "*" } }, expected: "deny" },
        { name: "IfExists on an absent key", condition: { StringEqualsIfExists: { "token.actions.githubusercontent.com:sub": "x" } }, expected: "allow" },
        { name: "ForAllValues on an absent key", condition: { "ForAllValues:StringEquals": { "accounts.google.com:sub": "x" } }, expected: "allow" },
        { name: "ForAnyValue on an absent key", condition: { "ForAnyValue:StringNotEquals": { "accounts.google.com:sub": "x" } }, expected: "deny" },
        { name: "Null true on an absent key", condition: { Null: { "accounts.google.com:sub": "true" } }, expected: "allow" },
        { name: "Null false on an absent key", condition: { Null: { "accounts.google.com:sub": "false" } }, expected: "deny" },
        { name: "NumericEquals on an absent key", condition: { NumericEquals: { "accounts.google.com:x": "1" } }, expected: "deny" },
        { name: "NumericNotEquals on an absent key", condition: { NumericNotEquals: { "accounts.google.com:x": "1" } }, expected: "allow" },
        {
            name: "the v2 issuer's key is absent from a v1 token",
            condition: { StringEquals: { [`${V2}:sub`]: ESC.sub } },
            expected: "deny",
        },
        // unknown request context and non-string operators: over-approximated in an Allow
        { name: "aws:SourceIp is unknown context", condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }, expected: "allow" },
        { name: "StringEquals on aws:PrincipalTag is unknown", condition: { StringEquals: { "aws:PrincipalTag/team": "x" } }, expected: "allow" },
        { name: "the issuer's amr claim is unknown", condition: { StringEquals: { [`${V1}:amr`]: "x" } }, expected: "allow" },
        { name: "NumericEquals on aud is unknown", condition: { NumericEquals: { [AUD]: "1" } }, expected: "allow" },
        { name: "Bool on sub is unknown", condition: { Bool: { [SUB]: "true" } }, expected: "allow" },
        { name: "ArnLike on sub is unknown", condition: { ArnLike: { [SUB]: "arn:*" } }, expected: "allow" },
        // policy variables
        { name: "${*} is a literal star", condition: { StringLike: { [AUD]: "aws:${*}" } }, expected: "deny" },
        { name: "${*} matches a literal star", condition: { StringLike: { [AUD]: "aws:${*}" } }, token: tok("aws:*", ESC.sub), expected: "allow" },
        { name: "${?} matches a literal question mark", condition: { StringLike: { [AUD]: "a${?}" } }, token: tok("a?", ESC.sub), expected: "allow" },
        { name: "${$} is a literal dollar", condition: { StringEquals: { [AUD]: "${$}x" } }, token: tok("$x", ESC.sub), expected: "allow" },
        { name: "an unknown variable admits any value (Allow)", condition: { StringEquals: { [AUD]: "aws:${aws:username}" } }, expected: "allow" },
        { name: "an unknown variable keeps its literal parts", condition: { StringEquals: { [AUD]: "x:${aws:username}" } }, expected: "deny" },
        { name: "a negated unknown variable excludes nothing (Allow)", condition: { StringNotEquals: { [AUD]: "${aws:username}" } }, expected: "allow" },
    ];
    for (const row of rows) {
        it(`${row.name} → ${row.expected}`, () => {
            assert.equal(evaluate(allowDoc(row.condition), row.token ?? ESC), row.expected);
        });
    }
});

describe("evaluate: Deny statements", () => {
    const allowAudOnly = { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: { StringEquals: { [AUD]: "aws:acme" } } };
    const deny = (extra: Record<string, unknown>) => ({ Effect: "Deny", Principal: { Federated: PROVIDER }, Action: WEB, ...extra });
    const other = tok("aws:acme", "pulumi:environments:org:acme:env:payroll/prod");
    const rows: { name: string; deny: Record<string, unknown>; token: PulumiToken; expected: Decision }[] = [
        { name: "Deny StringNotEquals spares the pinned sub", deny: deny({ Condition: { StringNotEquals: { [SUB]: ESC.sub } } }), token: ESC, expected: "allow" },
        { name: "Deny StringNotEquals denies another sub", deny: deny({ Condition: { StringNotEquals: { [SUB]: ESC.sub } } }), token: other, expected: "deny" },
        { name: "unconditional Deny wins", deny: deny({}), token: ESC, expected: "deny" },
        { name: "Deny with Principal *", deny: { ...deny({}), Principal: "*" }, token: ESC, expected: "deny" },
        { name: "Deny for another provider does not apply", deny: { ...deny({}), Principal: { Federated: GITHUB } }, token: ESC, expected: "allow" },
        { name: "Deny for another action does not apply", deny: { ...deny({}), Action: "sts:AssumeRole" }, token: ESC, expected: "allow" },
        { name: "Deny with sts:* applies", deny: { ...deny({}), Action: "sts:*" }, token: ESC, expected: "deny" },
        { name: "Deny with NotAction sts:TagSession applies", deny: { Effect: "Deny", Principal: "*", NotAction: "sts:TagSession" }, token: ESC, expected: "deny" },
        {
            name: "Deny conditioned on request context is assumed not to apply",
            deny: deny({ Condition: { StringNotEquals: { [SUB]: ESC.sub }, IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }),
            token: other,
            expected: "allow",
        },
        {
            name: "Deny with a non-string operator on sub is assumed not to apply",
            deny: deny({ Condition: { NumericNotEquals: { [SUB]: "1" } } }),
            token: other,
            expected: "allow",
        },
        {
            name: "Deny with an unknown variable denies nothing for it (positive)",
            deny: deny({ Condition: { StringEquals: { [SUB]: "${aws:username}" } } }),
            token: ESC,
            expected: "allow",
        },
        {
            name: "Deny with an unknown variable in a negated list does not apply",
            deny: deny({ Condition: { StringNotEquals: { [SUB]: [ESC.sub, "${aws:username}"] } } }),
            token: other,
            expected: "allow",
        },
        {
            name: "Deny StringNotEquals on a misspelt key applies to everyone",
            deny: deny({ Condition: { StringNotEquals: { [`${V1}:sbu`]: "x" } } }),
            token: ESC,
            expected: "deny",
        },
        {
            name: "Deny with {AWS: *} is not counted as certain",
            deny: { ...deny({}), Principal: { AWS: "*" } },
            token: ESC,
            expected: "allow",
        },
    ];
    for (const row of rows) {
        it(`${row.name} → ${row.expected}`, () => {
            const doc = { Version: "2012-10-17", Statement: [allowAudOnly, row.deny] };
            assert.equal(evaluate(doc, row.token), row.expected);
        });
    }
});

describe("evaluate: principals and actions", () => {
    const stmt = (extra: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: { Effect: "Allow", ...extra } });
    const rows: { name: string; doc: unknown; token?: PulumiToken; expected: Decision }[] = [
        { name: "Principal *", doc: stmt({ Principal: "*", Action: WEB }), expected: "allow" },
        { name: "{AWS: *}", doc: stmt({ Principal: { AWS: "*" }, Action: WEB }), expected: "allow" },
        { name: "{Federated: *}", doc: stmt({ Principal: { Federated: "*" }, Action: WEB }), expected: "allow" },
        { name: "an AWS account principal", doc: stmt({ Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: WEB }), expected: "deny" },
        { name: "another provider", doc: stmt({ Principal: { Federated: GITHUB }, Action: WEB }), expected: "deny" },
        { name: "provider list", doc: stmt({ Principal: { Federated: [GITHUB, PROVIDER] }, Action: WEB }), expected: "allow" },
        { name: "the v2 provider does not admit v1 tokens", doc: stmt({ Principal: { Federated: PROVIDER_V2 }, Action: WEB }), expected: "deny" },
        {
            name: "the v2 provider admits v2 tokens",
            doc: stmt({ Principal: { Federated: PROVIDER_V2 }, Action: WEB }),
            token: tok("sts.amazonaws.com", "pulumi:org:o1:env:e1", V2),
            expected: "allow",
        },
        {
            name: "host is case-insensitive",
            doc: stmt({ Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/API.Pulumi.COM/oidc" }, Action: WEB }),
            expected: "allow",
        },
        {
            name: "aws-cn partition",
            doc: stmt({ Principal: { Federated: `arn:aws-cn:iam::123456789012:oidc-provider/${V1}` }, Action: WEB }),
            expected: "allow",
        },
        { name: "NotPrincipal naming another provider", doc: stmt({ NotPrincipal: { Federated: GITHUB }, Action: WEB }), expected: "allow" },
        { name: "NotPrincipal naming this provider", doc: stmt({ NotPrincipal: { Federated: PROVIDER }, Action: WEB }), expected: "deny" },
        { name: "no principal at all", doc: stmt({ Action: WEB }), expected: "deny" },
        { name: "Action case-insensitive", doc: stmt({ Principal: "*", Action: "STS:assumerolewithwebidentity" }), expected: "allow" },
        { name: "Action sts:AssumeRole*", doc: stmt({ Principal: "*", Action: "sts:AssumeRole*" }), expected: "allow" },
        { name: "Action with ?", doc: stmt({ Principal: "*", Action: "sts:AssumeRoleWith?ebIdentity" }), expected: "allow" },
        { name: "Action sts:AssumeRole", doc: stmt({ Principal: "*", Action: "sts:AssumeRole" }), expected: "deny" },
        { name: "Action list", doc: stmt({ Principal: "*", Action: ["sts:TagSession", WEB] }), expected: "allow" },
        { name: "NotAction other", doc: stmt({ Principal: "*", NotAction: "sts:TagSession" }), expected: "allow" },
        { name: "NotAction sts:Assume*", doc: stmt({ Principal: "*", NotAction: "sts:Assume*" }), expected: "deny" },
        { name: "JSON string document", doc: JSON.stringify(stmt({ Principal: "*", Action: WEB })), expected: "allow" },
        { name: "empty Statement array", doc: { Statement: [] }, expected: "deny" },
    ];
    for (const row of rows) {
        it(`${row.name} → ${row.expected}`, () => assert.equal(evaluate(row.doc, row.token ?? ESC), row.expected));
    }

    it("refuses a token from an issuer it was not told about", () => {
        assert.throws(() => evaluate(stmt({ Principal: "*", Action: WEB }), tok("a", "b", "example.com/oidc")), RangeError);
        assert.equal(evaluate(stmt({ Principal: "*", Action: WEB }), tok("a", "b", "example.com/oidc"), ["example.com/oidc"]), "allow");
    });
});

describe("evaluate: malformed documents throw ReferenceDocumentError", () => {
    const ok = { Effect: "Allow", Principal: "*", Action: WEB };
    const rows: [string, unknown][] = [
        ["invalid JSON string", '{"Statement": ['],
        ["an array", [ok]],
        ["null", null],
        ["Statement missing", { Version: "2012-10-17" }],
        ["Statement a string", { Statement: "Allow" }],
        ["Effect Permit", { Statement: [{ ...ok, Effect: "Permit" }] }],
        ["unknown operator", { Statement: [{ ...ok, Condition: { StringEqual: { [AUD]: "x" } } }] }],
        ["key twice differing in case", { Statement: [{ ...ok, Condition: { StringEquals: { [AUD]: "x", "API.pulumi.com/OIDC:aud": "y" } } }] }],
        ["object value", { Statement: [{ ...ok, Condition: { StringEquals: { [AUD]: { v: "x" } } } }] }],
        ["empty value list", { Statement: [{ ...ok, Condition: { StringEquals: { [AUD]: [] } } }] }],
        ["null value", { Statement: [{ ...ok, Condition: { StringEquals: { [AUD]: null } } }] }],
        ["Principal array", { Statement: [{ ...ok, Principal: [PROVIDER] }] }],
        ["Principal value a number", { Statement: [{ ...ok, Principal: { Federated: 1 } }] }],
        ["Action a number", { Statement: [{ ...ok, Action: 42 }] }],
        ["Condition an array", { Statement: [{ ...ok, Condition: [] }] }],
        ["Null with a non-boolean", { Statement: [{ ...ok, Condition: { Null: { [AUD]: "maybe" } } }] }],
    ];
    for (const [name, doc] of rows) {
        it(name, () => assert.throws(() => evaluate(doc, ESC), ReferenceDocumentError));
    }
});

describe("isProviderArnOf", () => {
    const rows: [string, string, boolean][] = [
        [PROVIDER, V1, true],
        [PROVIDER, V2, false],
        [PROVIDER_V2, V2, true],
        [`arn:aws-us-gov:iam::123456789012:oidc-provider/${V1}`, V1, true],
        ["arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/OIDC", V1, false],
        ["arn:aws:iam::123456789012:role/api.pulumi.com/oidc", V1, false],
        ["arn:aws:sts::123456789012:oidc-provider/api.pulumi.com/oidc", V1, false],
        ["api.pulumi.com/oidc", V1, false],
    ];
    for (const [arn, issuer, expected] of rows) {
        it(`${arn} ${expected ? "is" : "is not"} the provider of ${issuer}`, () => assert.equal(isProviderArnOf(arn, issuer), expected));
    }
});

describe("inUniverse", () => {
    const rows: [PulumiToken, boolean][] = [
        [ESC, true],
        [tok("acme", "pulumi:environments:org:acme:env:prod"), true],
        [tok("acme", "pulumi:environments:org:acme:env:<yaml>"), true],
        [tok("acme", "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write"), true],
        [tok("acme", "pulumi:deploy:org:acme:project:infra:stack:prod:operation:import:scope:write"), false],
        [tok("aws:acme", "pulumi:environments:pulumi.organization.login:acme"), true],
        [tok("aws:acme", "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/prod:pulumi.user.login:a@b"), true],
        [tok("aws:acme", "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name"), false],
        [tok("aws:acme", "pulumi:environments:org:acme:env:a/b/c"), false],
        [tok("aws:acme", "pulumi:environments:org::env:a/b"), false],
        [tok("AWS:ACME", ESC.sub), false],
        [tok("aws:aws:acme", ESC.sub), false],
        [tok("", ESC.sub), false],
        [tok("aws:acme", "repo:acme/app:ref:refs/heads/main"), false],
        [tok("anything at all", "pulumi:org:o-1:env:e.2", V2), true],
        [tok("", "pulumi:org:o:env:e", V2), false],
        [tok("x", ESC.sub, V2), false],
        [tok("aws:acme", ESC.sub, "token.actions.githubusercontent.com"), false],
    ];
    for (const [t, expected] of rows) {
        it(`${t.issuer} ${t.aud} ${t.sub} → ${expected}`, () => assert.equal(inUniverse(t), expected));
    }
});

describe("inScope", () => {
    const opts: AnalysisOptions = { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:payments/*"] };
    const rows: [string, PulumiToken, AnalysisOptions, boolean][] = [
        ["no options: everything", tok("aws:evil", "x"), {}, true],
        ["allowed aud and sub", ESC, opts, true],
        ["bare org aud", tok("acme", ESC.sub), opts, true],
        ["other org aud", tok("aws:acme-evil", ESC.sub), opts, false],
        ["sub outside the globs", tok("aws:acme", "pulumi:environments:org:acme:env:payroll/prod"), opts, false],
        ["explicit audiences replace organizations", tok("acme", ESC.sub), { organizations: ["acme"], audiences: ["aws:acme"] }, false],
        ["v2 aud is not pinned", tok("whatever", ESC.sub, V2), { organizations: ["acme"] }, true],
        ["v2 sub against allowedSubjects", tok("x", "pulumi:org:o:env:e", V2), opts, false],
        ["empty organizations is unset", tok("aws:evil", ESC.sub), { organizations: [] }, true],
    ];
    for (const [name, t, o, expected] of rows) {
        it(`${name} → ${expected}`, () => assert.equal(inScope(t, o), expected));
    }
});

describe("candidateTokens", () => {
    const doc = allowDoc({ StringLike: { [SUB]: "pulumi:environments:org:acme:env:pay*", [AUD]: "aws:acme${aws:username}" } });
    const tokens = candidateTokens(doc);

    it("returns only tokens of the universe, for both default issuers", () => {
        assert.ok(tokens.length > 100);
        for (const t of tokens) assert.ok(inUniverse(t), JSON.stringify(t));
        assert.ok(tokens.some((t) => t.issuer === V2));
    });

    it("fills the document's wildcards and mutates its names", () => {
        const subs = new Set(tokens.map((t) => t.sub));
        const auds = new Set(tokens.map((t) => t.aud));
        assert.ok(subs.has("pulumi:environments:org:acme:env:payments/prod"));
        assert.ok(subs.has("pulumi:environments:org:acme-evil:env:payments/prod"));
        assert.ok(auds.has("aws:acme-evil"));
        assert.ok(auds.has("aws:acmeevil"), "variable filled like a wildcard");
    });

    it("lets the evaluator find tokens the document admits beyond the pattern's intent", () => {
        const evaluateDoc = (t: PulumiToken) => evaluate(doc, t);
        assert.ok(tokens.some((t) => t.issuer === V1 && t.sub === "pulumi:environments:org:acme:env:payroll/prod" && evaluateDoc(t) === "allow"));
    });
});
