/**
 * Table tests of the token model (issue 9, DOMAIN.md §5): one row per token kind and per scope level, under both
 * subjectScope settings, and the ambiguous IAM constructs with the reading taken. Every counterexample printed
 * (findings and blast radius) is replayed through the independent reference evaluator: one issuable token of the
 * kind it is said to be, admitted by the document and by the statement named.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { analyzeTrustPolicy, type AnalysisOptions, type BlastClass, type RuleId, type TokenKind, type Verdict } from "./index.js";
import { checkAgainstCandidates, checkCounterexamples, describeFinding, kindsOf } from "../testing/reference-evaluator.js";

const V1 = "api.pulumi.com/oidc";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const AUD = `${V1}:aud`;
const SUB = `${V1}:sub`;
const WEB = "sts:AssumeRoleWithWebIdentity";

function doc(condition: Record<string, Record<string, unknown>>, principal: unknown = { Federated: PROVIDER }, more: object[] = []): unknown {
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: principal, Action: WEB, Condition: condition }, ...more] };
}
const eq = (aud: string | string[], sub?: string | string[]): Record<string, Record<string, unknown>> => ({
    StringEquals: { [AUD]: aud, ...(sub !== undefined ? { [SUB]: sub } : {}) },
});
const like = (aud: string | string[], sub: string): Record<string, Record<string, unknown>> => ({
    StringEquals: { [AUD]: aud },
    StringLike: { [SUB]: sub },
});

interface Row {
    name: string;
    doc: unknown;
    /** Verdicts under subjectScope "project" and "environment". */
    verdict: [Verdict, Verdict];
    /** Mandatory rule ids (same under both scopes unless `envRules` is given). */
    rules: RuleId[];
    envRules?: RuleId[];
    /** Advisory rule ids under "project". */
    advisories?: RuleId[];
    usable: boolean;
    /** The kind of the first mandatory finding's counterexample. */
    kind?: TokenKind;
    /** The worst blast class of the first mandatory finding. */
    worst?: BlastClass;
    /** A phrase the first finding's token description contains. */
    words?: RegExp;
    options?: AnalysisOptions;
}

function run(rows: Row[]): void {
    for (const row of rows) {
        it(row.name, () => {
            for (const [i, scope] of (["project", "environment"] as const).entries()) {
                const options: AnalysisOptions = { organizations: ["acme"], ...row.options, subjectScope: scope };
                const r = analyzeTrustPolicy(row.doc, options);
                const got = r.findings.map(describeFinding).join("\n  ");
                assert.equal(r.verdict, row.verdict[i], `${scope}: verdict; findings:\n  ${got}`);
                const mandatory = r.findings.filter((f) => !f.advisory);
                const rules = scope === "environment" && row.envRules ? row.envRules : row.rules;
                assert.deepEqual([...new Set(mandatory.map((f) => f.ruleId))].sort(), [...rules].sort(), `${scope}: rules; findings:\n  ${got}`);
                if (scope === "project") {
                    const adv = r.findings.filter((f) => f.advisory).map((f) => f.ruleId);
                    assert.deepEqual(adv.sort(), [...(row.advisories ?? [])].sort(), `advisories; findings:\n  ${got}`);
                }
                assert.equal(r.usableFromPulumi, row.usable, `${scope}: usable`);
                const first = mandatory[0];
                if (first && scope === "project") {
                    if (row.kind) assert.equal(first.tokenKind, row.kind, `kind; ${got}`);
                    if (row.worst) assert.equal(first.blastRadius?.[0]?.class, row.worst, `worst class; ${got}`);
                    if (row.words) assert.match(first.tokenDescription ?? first.message, row.words);
                }
                checkCounterexamples(row.doc, options, r);
                checkAgainstCandidates(row.doc, options, r);
            }
        });
    }
}

describe("token model: one row per kind (the audience each kind is issued with)", () => {
    run([
        { name: "ESC project environment, aws:<org>, exact", doc: doc(eq("aws:acme", "pulumi:environments:org:acme:env:payments/prod")), verdict: ["pass", "pass"], rules: [], usable: true },
        { name: "ESC environment with the bare <org> audience admits nothing", doc: doc(eq("acme", "pulumi:environments:org:acme:env:payments/prod")), verdict: ["pass", "pass"], rules: [], advisories: ["oidc-trust-unusable"], usable: false },
        { name: "ESC legacy default project, <org>, exact", doc: doc(eq("acme", "pulumi:environments:org:acme:env:prod")), verdict: ["pass", "pass"], rules: [], usable: true },
        { name: "ESC inline <yaml> subject: always a violation", doc: doc(eq(["acme", "aws:acme"], "pulumi:environments:org:acme:env:<yaml>")), verdict: ["fail", "fail"], rules: ["oidc-trust-sub-pinned"], usable: true, kind: "esc-inline", worst: "shared-inline-environment" },
        { name: "Deployments stack, <org>, any operation", doc: doc(like("acme", "pulumi:deploy:org:acme:project:core:stack:dev:operation:*:scope:write")), verdict: ["pass", "pass"], rules: [], usable: true },
        { name: "Deployments subject with aws:<org> admits nothing (not failed on a token that cannot exist)", doc: doc(like("aws:acme", "pulumi:deploy:org:acme:*")), verdict: ["pass", "pass"], rules: [], advisories: ["oidc-trust-unusable"], usable: false },
        { name: "Customer Managed Keys, exact pin: usable", doc: doc(eq("aws:acme", "pulumi:cmk:pulumi.organization.login:acme")), verdict: ["pass", "pass"], rules: [], usable: true },
        {
            name: "Customer Managed Keys of every organization (aud aws:*, sub pulumi:cmk:*) fails",
            doc: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: { StringLike: { [AUD]: "aws:*", [SUB]: "pulumi:cmk:*" } } }] },
            verdict: ["fail", "fail"],
            rules: ["oidc-trust-aud-pinned"],
            usable: true,
            kind: "cmk",
            worst: "other-organization",
            words: /^a Customer Managed Keys token of evil-org$/,
        },
        { name: "another or future kind, exact subject", doc: doc(eq("aws:acme", "pulumi:insights:org:acme:account:a1")), verdict: ["pass", "pass"], rules: [], usable: true },
        { name: "another or future kind, unbounded subjects", doc: doc(like("aws:acme", "pulumi:insights:*")), verdict: ["fail", "fail"], rules: ["oidc-trust-sub-pinned"], usable: true, kind: "other", worst: "every-project" },
        {
            name: "an audience of other organizations fails whatever the subject (acme*)",
            doc: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: { StringLike: { [AUD]: "acme*" }, StringEquals: { [SUB]: "pulumi:deploy:org:acme:project:core:stack:dev:operation:update:scope:write" } } }] },
            verdict: ["fail", "fail"],
            rules: ["oidc-trust-aud-pinned"],
            usable: true,
        },
    ]);
});

describe("token model: one row per scope level", () => {
    run([
        { name: "every organization (sub pulumi:environments:org:*)", doc: doc(like(["acme", "aws:acme"], "pulumi:environments:org:*")), verdict: ["fail", "fail"], rules: ["oidc-trust-sub-pinned"], usable: true, worst: "every-project" },
        { name: "every project of the organization (env:*)", doc: doc(like("aws:acme", "pulumi:environments:org:acme:env:*")), verdict: ["fail", "fail"], rules: ["oidc-trust-sub-pinned"], usable: true, kind: "esc", worst: "every-project" },
        { name: "every project of the organization (Deployments project:*)", doc: doc(like("acme", "pulumi:deploy:org:acme:project:*")), verdict: ["fail", "fail"], rules: ["oidc-trust-sub-pinned"], usable: true, kind: "deploy", worst: "every-project", words: /^a Deployments token for stack acme\// },
        {
            name: "every environment of one project (env:payments/*)",
            doc: doc(like("aws:acme", "pulumi:environments:org:acme:env:payments/*")),
            verdict: ["pass", "fail"],
            rules: [],
            envRules: ["oidc-trust-sub-pinned"],
            advisories: ["oidc-trust-sub-project-wide"],
            usable: true,
        },
        {
            name: "every stack of one project (project:core:*)",
            doc: doc(like("acme", "pulumi:deploy:org:acme:project:core:*")),
            verdict: ["pass", "fail"],
            rules: [],
            envRules: ["oidc-trust-sub-pinned"],
            advisories: ["oidc-trust-sub-project-wide"],
            usable: true,
        },
        {
            name: "every environment of one project, subject attributes (currentEnvironment.name:payments/*)",
            doc: doc(like("aws:acme", "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/*")),
            verdict: ["pass", "fail"],
            rules: [],
            envRules: ["oidc-trust-sub-pinned"],
            advisories: ["oidc-trust-sub-project-wide"],
            usable: true,
        },
        { name: "one environment, subject attributes (rootEnvironment.name)", doc: doc(eq("aws:acme", "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:payments/prod")), verdict: ["pass", "pass"], rules: [], usable: true },
        // Pulumi appends every key of `subjectAttributes`: both environment attributes may stand in one subject.
        {
            name: "both environment attributes, both open: every project (rootEnvironment.name:*:currentEnvironment.name:*)",
            doc: doc(like("aws:acme", "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:*:currentEnvironment.name:*")),
            verdict: ["fail", "fail"],
            rules: ["oidc-trust-sub-pinned"],
            usable: true,
            kind: "esc",
            worst: "every-project",
        },
        {
            name: "both environment attributes, each pinned exactly",
            doc: doc(eq("aws:acme", "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:payments/prod:currentEnvironment.name:payments/base")),
            verdict: ["pass", "pass"],
            rules: [],
            usable: true,
        },
        {
            name: "a subject-attribute subject that names only the user pins no environment",
            doc: doc(eq("aws:acme", "pulumi:environments:pulumi.organization.login:acme:pulumi.user.login:alice")),
            verdict: ["fail", "fail"],
            rules: ["oidc-trust-sub-pinned"],
            usable: true,
            kind: "esc",
            worst: "environment-not-pinned",
        },
        { name: "every operation of one stack passes under both scopes", doc: doc(like("acme", "pulumi:deploy:org:acme:project:core:stack:dev:*")), verdict: ["pass", "pass"], rules: [], usable: true },
        {
            name: "two organizations without configuration",
            doc: doc(eq(["aws:acme", "aws:globex"], ["pulumi:environments:org:acme:env:p/e", "pulumi:environments:org:globex:env:p/e"])),
            verdict: ["fail", "fail"],
            rules: ["oidc-trust-aud-pinned"],
            usable: true,
            kind: "esc",
            options: { organizations: [] },
        },
    ]);

    it("blast radius: every class a loose statement admits, worst first, each with its own token", () => {
        const r = analyzeTrustPolicy(doc({ StringLike: { [AUD]: "*" } }), { organizations: ["acme"] });
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-aud-pinned")!;
        const classes = (f.blastRadius ?? []).map((b) => b.class);
        assert.deepEqual(classes.slice(0, 3), ["other-organization", "every-project", "shared-inline-environment"]);
        assert.ok(classes.includes("environment-not-pinned") && classes.includes("every-environment-of-project"), classes.join(", "));
        for (const b of f.blastRadius ?? []) assert.ok(kindsOf(b.counterexample).includes(b.tokenKind as never), JSON.stringify(b));
        const kinds = new Set(r.admitted[0]!.kinds!.map((k) => k.kind));
        for (const k of ["esc", "esc-legacy", "esc-inline", "deploy", "cmk", "other"]) assert.ok(kinds.has(k as TokenKind), `admitted lacks ${k}`);
        checkCounterexamples(doc({ StringLike: { [AUD]: "*" } }), { organizations: ["acme"] }, r);
    });

    it("blast radius names another kind than the statement's subjects (a role for one ESC environment that lets Deployments in)", () => {
        const d = doc({
            StringEquals: { [AUD]: ["acme", "aws:acme"] },
            StringLike: { [SUB]: ["pulumi:environments:org:acme:env:payments/prod", "pulumi:de*:org:acme:project:*"] },
        });
        const r = analyzeTrustPolicy(d, { organizations: ["acme"] });
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-sub-pinned")!;
        const other = (f.blastRadius ?? []).find((b) => b.class === "other-kind");
        assert.ok(other, JSON.stringify(f.blastRadius));
        assert.equal(other.tokenKind, "deploy");
        assert.match(other.tokenDescription, /^a Deployments token for stack acme\//);
        assert.deepEqual((f.blastRadius ?? []).map((b) => b.class).slice(0, 2), ["other-kind", "every-project"]);
        checkCounterexamples(d, { organizations: ["acme"] }, r);
    });
});

describe("allowedSubjects and condition values share one glob compiler (? is one character, * any run)", () => {
    const allowed = (globs: string[]): AnalysisOptions => ({ organizations: ["acme"], allowedSubjects: globs });
    const cases: Array<[string, string[], Record<string, Record<string, unknown>>, Verdict]> = [
        ["? admits one character", ["pulumi:environments:org:acme:env:payments/pro?"], eq("aws:acme", "pulumi:environments:org:acme:env:payments/prod"), "pass"],
        ["? is not a run (prod-eu is not pro?)", ["pulumi:environments:org:acme:env:payments/pro?"], eq("aws:acme", "pulumi:environments:org:acme:env:payments/prod-eu"), "fail"],
        ["? is not empty (pro is not pro?)", ["pulumi:environments:org:acme:env:payments/pro?"], eq("aws:acme", "pulumi:environments:org:acme:env:payments/pro"), "fail"],
        ["a document glob pro* is not inside pro?", ["pulumi:environments:org:acme:env:payments/pro?"], like("aws:acme", "pulumi:environments:org:acme:env:payments/pro*"), "fail"],
        ["a document glob pro? is inside pro*", ["pulumi:environments:org:acme:env:payments/pro*"], like("aws:acme", "pulumi:environments:org:acme:env:payments/pro?"), "pass"],
        ["* admits a run", ["pulumi:environments:org:acme:env:payments/*"], eq("aws:acme", "pulumi:environments:org:acme:env:payments/prod-eu"), "pass"],
        ["${?} is a literal question mark", ["pulumi:environments:org:acme:env:payments/pro${?}"], eq("aws:acme", "pulumi:environments:org:acme:env:payments/prod"), "fail"],
    ];
    for (const [name, globs, condition, verdict] of cases) {
        it(name, () => {
            const d = doc(condition);
            const r = analyzeTrustPolicy(d, allowed(globs));
            assert.equal(r.verdict, verdict, r.findings.map(describeFinding).join("; "));
            checkCounterexamples(d, allowed(globs), r);
            checkAgainstCandidates(d, allowed(globs), r);
        });
    }
});

describe("readings under ambiguity: the one that lets more in, and the finding says so", () => {
    it("a Deny with ForAnyValue:StringNotEqualsIfExists on a key the token lacks is assumed not to apply", () => {
        const d = doc(eq("aws:acme"), { Federated: PROVIDER }, [
            { Effect: "Deny", Principal: "*", Action: WEB, Condition: { "ForAnyValue:StringNotEqualsIfExists": { "token.actions.githubusercontent.com:sub": "repo:acme/app:*" } } },
        ]);
        const r = analyzeTrustPolicy(d, { organizations: ["acme"] });
        assert.equal(r.verdict, "fail");
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-sub-pinned")!;
        assert.ok(f.readings?.some((x) => /read as false .*a Deny is assumed not to apply/.test(x)), JSON.stringify(f.readings));
        assert.match(f.message, /This verdict rests on a reading/);
        checkCounterexamples(d, { organizations: ["acme"] }, r);
    });

    it("an Allow with ForAnyValue:StringLikeIfExists on a key the token lacks is assumed to apply", () => {
        const d = doc({ StringEquals: { [AUD]: "aws:acme" }, "ForAnyValue:StringLikeIfExists": { "token.actions.githubusercontent.com:sub": "repo:*" } });
        const r = analyzeTrustPolicy(d, { organizations: ["acme"] });
        assert.equal(r.verdict, "fail");
        assert.ok(r.findings[0]!.readings?.some((x) => /read as true .*an Allow is assumed to apply/.test(x)));
    });

    it("Federated \"*\": an Allow is assumed to admit, a Deny assumed not to match", () => {
        const allow = doc(eq("aws:acme"), { Federated: "*" });
        const a = analyzeTrustPolicy(allow, { organizations: ["acme"] });
        assert.equal(a.verdict, "fail");
        assert.ok(a.findings[0]!.readings?.some((x) => /Federated "\*", read as admitting every provider/.test(x)));
        checkCounterexamples(allow, { organizations: ["acme"] }, a);
        const deny = doc(eq("aws:acme"), { Federated: PROVIDER }, [{ Effect: "Deny", Principal: { Federated: "*" }, Action: WEB }]);
        const b = analyzeTrustPolicy(deny, { organizations: ["acme"] });
        assert.equal(b.verdict, "fail");
        assert.ok(b.readings?.some((x) => /is a Deny whose principal \(Federated "\*"\).*assumed not to apply/.test(x)), JSON.stringify(b.readings));
        checkCounterexamples(deny, { organizations: ["acme"] }, b);
    });

    const placeholders = [
        "arn:aws:iam::${AWS::AccountId}:oidc-provider/api.pulumi.com/oidc",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/api.pulumi.com/oidc",
        "${oidc_provider_arn}",
        "${var.oidc_provider_arn}",
        "arn:aws:iam::123456789012:oidc-provider/${var.issuer}",
        "arn:aws:iam::12345:oidc-provider/api.pulumi.com/oidc",
        "https://api.pulumi.com/oidc",
    ];
    for (const p of placeholders) {
        it(`a principal that could be Pulumi's provider is in scope: ${p}`, () => {
            const d = doc(eq("aws:acme"), { Federated: p });
            const r = analyzeTrustPolicy(d, { organizations: ["acme"] });
            assert.equal(r.verdict, "fail", `never pass: ${r.findings.map(describeFinding).join("; ")}`);
            assert.ok(r.findings[0]!.readings?.some((x) => x.includes(p)), JSON.stringify(r.findings[0]!.readings));
            checkCounterexamples(d, { organizations: ["acme"] }, r);
        });
    }

    it("a placeholder principal naming no issuer's keys cannot be told apart: unknown, never pass", () => {
        const r = analyzeTrustPolicy(doc({ StringEquals: { "aws:SourceAccount": "123456789012" } }, { Federated: "${oidc_provider_arn}" }), {});
        assert.equal(r.verdict, "unknown");
        assert.deepEqual(r.findings.map((f) => f.ruleId), ["oidc-trust-principal-unresolved"]);
    });

    it("a placeholder principal with another provider's keys is that provider: out of scope", () => {
        const r = analyzeTrustPolicy(doc({ StringEquals: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main" } }, { Federated: "${github_provider_arn}" }), {});
        assert.equal(r.verdict, "pass");
        assert.match(r.notes.join(" "), /out of scope/);
    });
});

describe("advisories for likely mistakes", () => {
    it("Pulumi condition keys on another provider (a provider URL typo)", () => {
        const r = analyzeTrustPolicy(doc(eq("aws:acme", "pulumi:environments:org:acme:env:p/e"), { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.co/oidc" }), {});
        assert.equal(r.verdict, "pass");
        assert.deepEqual(r.findings.map((f) => [f.ruleId, f.advisory]), [["oidc-trust-issuer-mismatch", true]]);
        assert.match(r.findings[0]!.message, /api\.pulumi\.co\/oidc/);
    });

    it("an organization name that is not lowercase admits nothing", () => {
        const r = analyzeTrustPolicy(doc(eq("aws:Acme", "pulumi:environments:org:Acme:env:p/e")), {});
        assert.equal(r.usableFromPulumi, false);
        assert.deepEqual(r.findings.map((f) => f.ruleId).sort(), ["oidc-trust-org-not-lowercase", "oidc-trust-unusable"]);
        assert.match(r.findings[0]!.message, /did you mean "acme"/);
    });
});

describe("subject-attribute values are the ones Pulumi gives", () => {
    /** Every environment attribute value of every token a result prints. */
    const envValues = (r: ReturnType<typeof analyzeTrustPolicy>): Array<{ aud: string; value: string }> =>
        r.findings.flatMap((f) => [f.counterexample, ...(f.blastRadius ?? []).map((b) => b.counterexample)]).flatMap((t) =>
            t ? [...t.sub.matchAll(/:(?:currentEnvironment|rootEnvironment)\.name:([^:]*)/g)].map((m) => ({ aud: t.aud, value: m[1] ?? "" })) : [],
        );

    it("a pattern open after the environment's name prints `<project>/<environment>` with one `/`", () => {
        const r = analyzeTrustPolicy(doc(like("aws:acme", "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payroll/prod*")), { organizations: ["acme"] });
        const values = envValues(r);
        assert.ok(values.length > 0);
        for (const { value } of values) assert.match(value, /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/);
    });

    it("the legacy default project's tokens name the environment alone: never `<project>/<environment>` with the bare audience", () => {
        const r = analyzeTrustPolicy(doc(eq("acme")), { organizations: ["acme"] });
        for (const { aud, value } of envValues(r)) if (aud === "acme") assert.doesNotMatch(value, /\//, value);
        assert.ok(!r.findings.some((f) => (f.blastRadius ?? []).some((b) => /legacy default project of every project/.test(b.description))));
        // Pinned to one legacy environment through the attribute form: passes.
        const pinned = analyzeTrustPolicy(doc(eq("acme", "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:prod")), { organizations: ["acme"] });
        assert.equal(pinned.verdict, "pass");
        assert.equal(pinned.usableFromPulumi, true);
    });
});
