/**
 * Table-driven tests of analyzeTrustPolicy, one row per IAM condition operator form (plain, negated, IgnoreCase,
 * Like, IfExists, ForAllValues/ForAnyValue, Null, non-string operators, policy variables), plus Deny statements and
 * principal/action scope. Expectations follow the AWS IAM condition semantics (DOMAIN.md §2), not the implementation;
 * every fail counterexample is replayed through the reference evaluator.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { analyzeTrustPolicy, type AnalysisOptions, type RuleId, type Verdict } from "./index.js";
import { checkAgainstCandidates, checkCounterexamples, describeFinding } from "../testing/reference-evaluator.js";

const V1 = "api.pulumi.com/oidc";
const V2 = "api.pulumi.com/oidc/v2";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const PROVIDER_V2 = `arn:aws:iam::123456789012:oidc-provider/${V2}`;
const GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const GH_SUB = "token.actions.githubusercontent.com:sub";
const AUD = `${V1}:aud`;
const SUB = `${V1}:sub`;
const WEB = "sts:AssumeRoleWithWebIdentity";
const ESC = "pulumi:environments:org:acme:env:payments/prod";
const AUD_RULE = "oidc-trust-aud-pinned" satisfies RuleId;
const SUB_RULE = "oidc-trust-sub-pinned" satisfies RuleId;

type Conditions = Record<string, Record<string, unknown>>;

/** Merges condition blocks operator by operator (a key given twice keeps the later value). */
function merge(...blocks: (Conditions | undefined)[]): Conditions {
    const out: Conditions = {};
    for (const b of blocks) for (const [op, keys] of Object.entries(b ?? {})) out[op] = { ...out[op], ...keys };
    return out;
}

function allow(condition: Conditions, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const st: Record<string, unknown> = { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, ...extra };
    if (Object.keys(condition).length > 0) st.Condition = condition;
    return st;
}

interface Row {
    name: string;
    /** The whole document; or built from `condition` on one Allow statement trusting the v1 provider. */
    doc: unknown;
    options: AnalysisOptions;
    verdict: Verdict;
    rules: RuleId[];
    /** Expected usableFromPulumi, where the row is about it. */
    usable?: boolean;
}

function runRows(rows: Row[]): void {
    for (const row of rows) {
        it(`${row.name} → ${row.verdict}${row.rules.length ? ` (${row.rules.join(", ")})` : ""}`, () => {
            const result = analyzeTrustPolicy(row.doc, row.options);
            const got = result.findings.map(describeFinding).join("\n  ");
            assert.equal(result.verdict, row.verdict, `verdict; findings:\n  ${got}`);
            const mandatory = result.findings.filter((f) => !f.advisory);
            assert.deepEqual([...new Set(mandatory.map((f) => f.ruleId))].sort(), [...row.rules].sort(), `rule ids; findings:\n  ${got}`);
            if (row.usable !== undefined) {
                assert.equal(result.usableFromPulumi, row.usable, "usableFromPulumi");
                if (!row.usable) assert.ok(result.notes.length > 0, "an unusable role carries a note");
            }
            checkCounterexamples(row.doc, row.options, result);
            checkAgainstCandidates(row.doc, row.options, result);
        });
    }
}

// ---------------------------------------------------------------------------------------------------------------

describe("operators on aud (sub pinned; organizations and allowedSubjects configured)", () => {
    const options: AnalysisOptions = { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:payments/*"] };
    const subPin: Conditions = { StringEquals: { [SUB]: ESC } };
    const row = (name: string, condition: Conditions, verdict: Verdict, usable?: boolean, opts: AnalysisOptions = options): Row => ({
        name,
        doc: { Version: "2012-10-17", Statement: [allow(merge(subPin, condition))] },
        options: opts,
        verdict,
        rules: verdict === "fail" ? [AUD_RULE] : [],
        usable,
    });
    const nonString = ["NumericEquals", "DateEquals", "Bool", "BinaryEquals", "IpAddress", "ArnEquals", "ArnLike"];
    runRows([
        row("StringEquals aws:acme", { StringEquals: { [AUD]: "aws:acme" } }, "pass", true),
        row("StringEquals [aws:acme, acme]", { StringEquals: { [AUD]: ["aws:acme", "acme"] } }, "pass", true),
        row("StringEquals aws:globex", { StringEquals: { [AUD]: "aws:globex" } }, "fail"),
        row("StringEquals treats * literally (aws:acme*)", { StringEquals: { [AUD]: "aws:acme*" } }, "pass", false),
        row("StringLike aws:acme* admits aws:acme-evil", { StringLike: { [AUD]: "aws:acme*" } }, "fail"),
        row("StringLike aws:acm? admits aws:acmx", { StringLike: { [AUD]: "aws:acm?" } }, "fail"),
        row("StringLike without wildcards is exact", { StringLike: { [AUD]: "aws:acme" } }, "pass", true),
        row("StringNotEquals aws:globex", { StringNotEquals: { [AUD]: "aws:globex" } }, "fail"),
        row("StringNotLike * admits nothing", { StringNotLike: { [AUD]: "*" } }, "pass", false),
        row("StringEqualsIgnoreCase admits aws:ACME", { StringEqualsIgnoreCase: { [AUD]: "aws:acme" } }, "fail"),
        row("StringNotEqualsIgnoreCase", { StringNotEqualsIgnoreCase: { [AUD]: "aws:globex" } }, "fail"),
        row("StringEqualsIfExists on an always-present key", { StringEqualsIfExists: { [AUD]: "aws:acme" } }, "pass", true),
        row("StringLikeIfExists aws:acme*", { StringLikeIfExists: { [AUD]: "aws:acme*" } }, "fail"),
        row("ForAnyValue:StringEquals", { "ForAnyValue:StringEquals": { [AUD]: "aws:acme" } }, "pass", true),
        row("ForAllValues:StringEquals", { "ForAllValues:StringEquals": { [AUD]: ["aws:acme", "acme"] } }, "pass", true),
        row("ForAnyValue:StringLike aws:acme*", { "ForAnyValue:StringLike": { [AUD]: "aws:acme*" } }, "fail"),
        row("ForAllValues:StringNotEquals", { "ForAllValues:StringNotEquals": { [AUD]: "aws:globex" } }, "fail"),
        row("Null false only tests presence", { Null: { [AUD]: "false" } }, "fail"),
        row("Null true: aud is always present", { Null: { [AUD]: "true" } }, "pass", false),
        ...nonString.map((op) => row(`${op} on aud is not a pin`, { [op]: { [AUD]: "1" } }, "fail")),
        row("${*} is a literal star", { StringLike: { [AUD]: "aws:acme${*}" } }, "pass", false),
        row("${*} beside a real value", { StringLike: { [AUD]: ["aws:acme", "aws:acme${*}"] } }, "pass", true),
        row("${?} is a literal question mark", { StringLike: { [AUD]: "aws:acm${?}" } }, "pass", false),
        row("unknown variable admits any org", { StringEquals: { [AUD]: "aws:${aws:PrincipalTag/org}" } }, "fail"),
        row("negated unknown variable excludes nothing", { StringNotEquals: { [AUD]: "${aws:username}" } }, "fail"),
        row("StringLike aws:acme* minus StringNotLike aws:acme?*", { StringLike: { [AUD]: "aws:acme*" }, StringNotLike: { [AUD]: "aws:acme?*" } }, "pass", true),
        row("StringLike and StringNotLike of the same value", { StringLike: { [AUD]: "aws:acme" }, StringNotLike: { [AUD]: "aws:acme" } }, "pass", false),
        row("request context only (aws:PrincipalTag)", { StringEquals: { "aws:PrincipalTag/team": "x" } }, "fail"),
        row("request context beside a pin (aws:SourceIp)", { IpAddress: { "aws:SourceIp": "10.0.0.0/8" }, StringEquals: { [AUD]: "aws:acme" } }, "pass", true),
        row("the issuer's amr claim is not a pin", { StringEquals: { [`${V1}:amr`]: "aws:acme" } }, "fail"),
        row("misspelt key under StringEquals admits nothing", { StringEquals: { [`${V1}:adu`]: "aws:acme" } }, "pass", false),
        row("misspelt key under StringNotEquals constrains nothing", { StringNotEquals: { [`${V1}:adu`]: "aws:acme" } }, "fail"),
        row("ForAllValues on another issuer's key is true", { "ForAllValues:StringEquals": { [GH_SUB]: "repo:acme/app:*" } }, "fail"),
        row("ForAnyValue on another issuer's key is false", { "ForAnyValue:StringEquals": { [GH_SUB]: "repo:acme/app" } }, "pass", false),
        row("upper-case key", { StringEquals: { "API.PULUMI.COM/OIDC:AUD": "aws:acme" } }, "pass", true),
        row("audiences option replaces organizations", { StringEquals: { [AUD]: ["aws:acme", "acme"] } }, "fail", undefined, {
            ...options,
            audiences: ["aws:acme"],
        }),
        // Unconfigured, more than one organization is a violation of its own (issue 9: the scope model).
        row("without organizations: two organizations' literal audiences", { StringEquals: { [AUD]: ["aws:acme", "aws:globex"] } }, "fail", true, {
            allowedSubjects: options.allowedSubjects,
        }),
        row("without organizations: one organization's literal audiences", { StringEquals: { [AUD]: ["aws:acme", "acme"] } }, "pass", true, {
            allowedSubjects: options.allowedSubjects,
        }),
        row("without organizations: a wildcard audience", { StringLike: { [AUD]: "aws:*" } }, "fail", undefined, {
            allowedSubjects: options.allowedSubjects,
        }),
    ]);
});

describe("operators on sub (aud pinned to aws:acme; organizations configured)", () => {
    const options: AnalysisOptions = { organizations: ["acme"] };
    const withAllowed: AnalysisOptions = { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:payments/*"] };
    const audPin: Conditions = { StringEquals: { [AUD]: "aws:acme" } };
    const row = (name: string, condition: Conditions, verdict: Verdict, usable?: boolean, opts: AnalysisOptions = options): Row => ({
        name,
        doc: { Version: "2012-10-17", Statement: [allow(merge(audPin, condition))] },
        options: opts,
        verdict,
        rules: verdict === "fail" ? [SUB_RULE] : [],
        usable,
    });
    runRows([
        row("StringEquals ESC environment", { StringEquals: { [SUB]: ESC } }, "pass", true),
        // The legacy default project and Deployments are issued with the bare `<org>` audience.
        row("StringEquals legacy default project", { StringEquals: { [AUD]: "acme", [SUB]: "pulumi:environments:org:acme:env:prod" } }, "pass", true),
        row("StringEquals legacy default project with aws:<org> admits nothing", { StringEquals: { [SUB]: "pulumi:environments:org:acme:env:prod" } }, "pass", false),
        row("StringEquals Deployments", { StringEquals: { [AUD]: "acme", [SUB]: "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write" } }, "pass", true),
        row("StringEquals Deployments with aws:<org> admits nothing", { StringEquals: { [SUB]: "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write" } }, "pass", false),
        row("StringEquals Customer Managed Keys", { StringEquals: { [SUB]: "pulumi:cmk:pulumi.organization.login:acme" } }, "pass", true),
        row("StringLike project wildcard P/*", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/*" } }, "pass", true),
        row("StringLike P/prod-*", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/prod-*" } }, "pass", true),
        row("StringLike Deployments stack:S:*", { StringEquals: { [AUD]: "acme" }, StringLike: { [SUB]: "pulumi:deploy:org:acme:project:infra:stack:prod:*" } }, "pass", true),
        row("StringLike Deployments with aws:<org> admits nothing (issue 9)", { StringLike: { [SUB]: "pulumi:deploy:org:acme:*" } }, "pass", false),
        row("StringLike CMK of every organization is confined by the paired audience", { StringLike: { [SUB]: "pulumi:cmk:*" } }, "pass", true),
        row("StringLike attribute form currentEnvironment.name:P/*", {
            StringLike: { [SUB]: "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/*" },
        }, "pass", true),
        row("StringLike org-wide env:*", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:*" } }, "fail"),
        row("StringLike org-wide org:acme:*", { StringLike: { [SUB]: "pulumi:environments:org:acme:*" } }, "fail"),
        row("StringLike attribute form org-wide", { StringLike: { [SUB]: "pulumi:environments:pulumi.organization.login:acme:*" } }, "fail"),
        row("StringLike org-unbound org:*", { StringLike: { [SUB]: "pulumi:environments:org:*" } }, "fail"),
        row("StringLike prefix-colliding env:pay*", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:pay*" } }, "fail"),
        row("StringLike ? in project", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:pay?ents/prod" } }, "fail"),
        row("StringLike wildcard project */prod", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:*/prod" } }, "fail"),
        row("StringLike segment-spanning pulumi:*:org:…", { StringLike: { [SUB]: "pulumi:*:org:acme:env:payments/prod" } }, "fail"),
        row("StringLikeIfExists org-wide", { StringLikeIfExists: { [SUB]: "pulumi:environments:org:acme:*" } }, "fail"),
        row("StringNotEquals admits every other subject", { StringNotEquals: { [SUB]: ESC } }, "fail"),
        row("StringNotLike another org", { StringNotLike: { [SUB]: "pulumi:environments:org:globex:*" } }, "fail"),
        row("StringNotLike * admits nothing", { StringNotLike: { [SUB]: "*" } }, "pass", false),
        row("no sub condition", {}, "fail"),
        row("shared <yaml> subject", { StringEquals: { [SUB]: "pulumi:environments:org:acme:env:<yaml>" } }, "fail"),
        // aud aws:acme is issued only with acme's subjects: globex's subject pairs with no issuable token.
        row("subject of another org", { StringEquals: { [SUB]: "pulumi:environments:org:globex:env:payments/prod" } }, "pass", false),
        row("StringLike P/* minus StringNotLike P/dev*", {
            StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/*" },
            StringNotLike: { [SUB]: "pulumi:environments:org:acme:env:payments/dev*" },
        }, "pass", true),
        row("Null false only tests presence", { Null: { [SUB]: "false" } }, "fail"),
        row("NumericEquals on sub is not a pin", { NumericEquals: { [SUB]: "1" } }, "fail"),
        row("ArnLike on sub is not a pin", { ArnLike: { [SUB]: "arn:aws:*" } }, "fail"),
        row("${*} makes the subject unreachable", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/${*}" } }, "pass", false),
        // The variable may stand for any organization, but aud aws:acme pairs only with acme's subject.
        row("unknown variable in the org position", { StringEquals: { [SUB]: "pulumi:environments:org:${aws:PrincipalTag/org}:env:payments/prod" } }, "pass", true),
        row("ForAnyValue:StringLike P/*", { "ForAnyValue:StringLike": { [SUB]: "pulumi:environments:org:acme:env:payments/*" } }, "pass", true),
        row("ForAllValues:StringEquals exact", { "ForAllValues:StringEquals": { [SUB]: ESC } }, "pass", true),
        row("StringEqualsIfExists exact", { StringEqualsIfExists: { [SUB]: ESC } }, "pass", true),
        row("allowedSubjects: StringEqualsIgnoreCase admits other case", { StringEqualsIgnoreCase: { [SUB]: ESC } }, "fail", undefined, withAllowed),
        row("allowedSubjects: unknown variable in the last segment", {
            StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/${aws:username}" },
        }, "pass", true, withAllowed),
        row("allowedSubjects: P/* exceeds P/prod", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/*" } }, "fail", undefined, {
            organizations: ["acme"],
            allowedSubjects: [ESC],
        }),
        row("allowedSubjects: exact subject inside", { StringEquals: { [SUB]: ESC } }, "pass", true, withAllowed),
    ]);
});

describe("the v2 issuer (fn::open::oidc)", () => {
    const options: AnalysisOptions = { organizations: ["acme"] };
    const v2 = (condition: Conditions) => ({
        Version: "2012-10-17",
        Statement: [allow(condition, { Principal: { Federated: PROVIDER_V2 } })],
    });
    runRows([
        { name: "no condition: sub unpinned, aud not judged", doc: v2({}), options, verdict: "fail", rules: [SUB_RULE], usable: true },
        {
            name: "exact subjects",
            doc: v2({ StringEquals: { [`${V2}:sub`]: ["pulumi:org:o1:env:e1", "pulumi:org:o1:env:e2"] } }),
            options,
            verdict: "pass",
            rules: [],
            usable: true,
        },
        {
            name: "exact subject under StringLike, any audience",
            doc: v2({ StringLike: { [`${V2}:sub`]: "pulumi:org:o1:env:e1", [`${V2}:aud`]: "*" } }),
            options,
            verdict: "pass",
            rules: [],
            usable: true,
        },
        {
            name: "wildcard subject",
            doc: v2({ StringEquals: { [`${V2}:aud`]: "sts.amazonaws.com" }, StringLike: { [`${V2}:sub`]: "pulumi:org:o1:env:*" } }),
            options,
            verdict: "fail",
            rules: [SUB_RULE],
            usable: true,
        },
        {
            name: "conditions on the v1 issuer's keys: absent from v2 tokens",
            doc: v2({ StringEquals: { [AUD]: "aws:acme", [SUB]: ESC } }),
            options,
            verdict: "pass",
            rules: [],
            usable: false,
        },
    ]);
});

describe("Deny statements (Allow pins only aud)", () => {
    const options: AnalysisOptions = { organizations: ["acme"] };
    const allowAud = allow({ StringEquals: { [AUD]: "aws:acme" } });
    const deny = (condition: Conditions, extra: Record<string, unknown> = {}) => ({
        Effect: "Deny",
        Principal: { Federated: PROVIDER },
        Action: WEB,
        ...(Object.keys(condition).length ? { Condition: condition } : {}),
        ...extra,
    });
    const row = (name: string, d: Record<string, unknown>, verdict: Verdict, usable?: boolean, first: Record<string, unknown> = allowAud): Row => ({
        name,
        doc: { Version: "2012-10-17", Statement: [first, d] },
        options,
        verdict,
        rules: verdict === "fail" ? [SUB_RULE] : [],
        usable,
    });
    runRows([
        row("StringNotEquals sub pins it", deny({ StringNotEquals: { [SUB]: ESC } }), "pass", true),
        row("StringNotLike P/* pins the project", deny({ StringNotLike: { [SUB]: "pulumi:environments:org:acme:env:payments/*" } }), "pass", true),
        row("StringNotEqualsIfExists on a present key", deny({ StringNotEqualsIfExists: { [SUB]: ESC } }), "pass", true),
        row("ForAnyValue:StringNotEquals on a present key", deny({ "ForAnyValue:StringNotEquals": { [SUB]: ESC } }), "pass", true),
        row("Principal * and sts:* apply", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: "*", Action: "sts:*" }), "pass", true),
        row("conditioned on aws:SourceIp: not counted", deny({ StringNotEquals: { [SUB]: ESC }, IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }), "fail"),
        row("for an AWS account principal: does not apply", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: { AWS: "arn:aws:iam::123456789012:root" } }), "fail"),
        row("for sts:AssumeRole: does not apply", deny({ StringNotEquals: { [SUB]: ESC } }, { Action: "sts:AssumeRole" }), "fail"),
        row("a variable in the negated list: under-approximated", deny({ StringNotEquals: { [SUB]: [ESC, "${aws:username}"] } }), "fail"),
        row("NumericNotEquals on sub: not counted", deny({ NumericNotEquals: { [SUB]: "1" } }), "fail"),
        row("StringNotLike org-wide leaves the org open", deny({ StringNotLike: { [SUB]: "pulumi:environments:org:acme:env:*" } }), "fail"),
        row("StringNotEquals on a misspelt key denies everyone", deny({ StringNotEquals: { [`${V1}:sbu`]: "x" } }), "pass", false),
        // A role can only use its own account's provider, and the document does not say which account the role is
        // in: a Deny naming one account's provider applies for certain only to Allows that trust that very provider.
        row("a Deny on one account's provider does not cover an Allow with Principal * (the role's account is not known)", deny({ StringNotEquals: { [SUB]: ESC } }), "fail", true, allow(
            { StringEquals: { [AUD]: "aws:acme" } },
            { Principal: "*" },
        )),
        row("a Deny on the provider does not cover the provider ARN of another partition", deny({ StringNotEquals: { [SUB]: ESC } }), "fail", true, allow(
            { StringEquals: { [AUD]: "aws:acme" } },
            { Principal: { Federated: `arn:aws-us-gov:iam::123456789012:oidc-provider/${V1}` } },
        )),
        row("a Deny on another account's provider does not apply", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: { Federated: `arn:aws:iam::999999999999:oidc-provider/${V1}` } }), "fail", true),
        row("a Deny on the provider with account * does not apply (no wildcard in a principal ARN)", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: { Federated: `arn:aws:iam::*:oidc-provider/${V1}` } }), "fail", true),
        row("a Deny on the provider written with an upper-case host does not apply for certain", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/API.pulumi.com/oidc` } }), "fail", true),
        row("a Deny on the providers of both accounts the Allow trusts applies", deny({ StringNotEquals: { [SUB]: ESC } }, { Principal: { Federated: [`arn:aws:iam::999999999999:oidc-provider/${V1}`, PROVIDER] } }), "pass", true, allow(
            { StringEquals: { [AUD]: "aws:acme" } },
            { Principal: { Federated: [PROVIDER, `arn:aws:iam::999999999999:oidc-provider/${V1}`] } },
        )),
        row("a Deny on one of the two providers the Allow trusts does not cover the other", deny({ StringNotEquals: { [SUB]: ESC } }), "fail", true, allow(
            { StringEquals: { [AUD]: "aws:acme" } },
            { Principal: { Federated: [PROVIDER, `arn:aws:iam::999999999999:oidc-provider/${V1}`] } },
        )),
        row("StringNotEquals aud pins aud for an Allow without one", deny({ StringNotEquals: { [AUD]: "aws:acme" } }), "pass", true, allow({ StringEquals: { [SUB]: ESC } })),
    ]);
});

describe("principal and action scope (aud-only condition)", () => {
    const options: AnalysisOptions = { organizations: ["acme"] };
    const cond = { StringEquals: { [AUD]: "aws:acme" } };
    const row = (name: string, extra: Record<string, unknown>, inScope: boolean, opts: AnalysisOptions = options, c: Conditions = cond): Row => {
        const st: Record<string, unknown> = { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: c };
        for (const [k, v] of Object.entries(extra)) {
            if (v === undefined) delete st[k];
            else st[k] = v;
        }
        return {
            name,
            doc: { Version: "2012-10-17", Statement: [st] },
            options: opts,
            verdict: inScope ? "fail" : "pass",
            rules: inScope ? [SUB_RULE] : [],
            usable: inScope,
        };
    };
    const custom = "pulumi.example.com/oidc";
    runRows([
        row('Principal "*"', { Principal: "*" }, true),
        row('{"AWS": "*"}', { Principal: { AWS: "*" } }, true),
        row('{"Federated": "*"}', { Principal: { Federated: "*" } }, true),
        row("GitHub provider only", { Principal: { Federated: GITHUB } }, false),
        row("GitHub and Pulumi providers", { Principal: { Federated: [GITHUB, PROVIDER] } }, true),
        row("NotPrincipal naming GitHub", { Principal: undefined, NotPrincipal: { Federated: GITHUB } }, true),
        row("NotPrincipal naming Pulumi's provider", { Principal: undefined, NotPrincipal: { Federated: PROVIDER } }, false),
        row("provider host in upper case", { Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/API.PULUMI.COM/oidc" } }, true),
        row("aws-cn partition", { Principal: { Federated: `arn:aws-cn:iam::123456789012:oidc-provider/${V1}` } }, true),
        row("Action sts:AssumeRole", { Action: "sts:AssumeRole" }, false),
        row("Action in other case", { Action: "STS:assumerolewithwebidentity" }, true),
        row("Action with ?", { Action: "sts:AssumeRoleWith?ebIdentity" }, true),
        row('Action "*"', { Action: "*" }, true),
        row("Action list", { Action: ["sts:TagSession", WEB] }, true),
        row("NotAction sts:TagSession", { Action: undefined, NotAction: "sts:TagSession" }, true),
        row("NotAction sts:Assume*", { Action: undefined, NotAction: "sts:Assume*" }, false),
        row("custom issuers: the default provider is out of scope", {}, false, { organizations: ["acme"], issuers: [custom] }),
        row(
            "custom issuers: their provider is in scope",
            { Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${custom}` } },
            true,
            { organizations: ["acme"], issuers: [custom] },
            { StringEquals: { [`${custom}:aud`]: "aws:acme" } },
        ),
    ]);
});
