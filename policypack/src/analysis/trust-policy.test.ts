import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decider } from "./automata.js";
import { UNKNOWN_SENTINELS } from "./constants.js";
import { analyzeTrustPolicy } from "./trust-policy.js";
import type { AnalysisOptions, TrustAnalysis } from "./types.js";

const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
const AUD = "api.pulumi.com/oidc:aud";
const SUB = "api.pulumi.com/oidc:sub";
const ACME = { organizations: ["acme"] } satisfies AnalysisOptions;

function allow(condition?: Record<string, Record<string, unknown>>, principal: unknown = { Federated: PROVIDER }): object {
    return {
        Effect: "Allow",
        Principal: principal,
        Action: "sts:AssumeRoleWithWebIdentity",
        ...(condition ? { Condition: condition } : {}),
    };
}
const doc = (...statements: object[]): object => ({ Version: "2012-10-17", Statement: statements });

function only(result: TrustAnalysis): TrustAnalysis["findings"][number] {
    assert.equal(result.findings.length, 1, JSON.stringify(result.findings, null, 1));
    return result.findings[0]!;
}

describe("analyzeTrustPolicy", () => {
    it("reports every operation of one Deployments stack in a finding's blast radius, and looks for it only for a finding", () => {
        const sub = "pulumi:deploy:org:acme:project:web:stack:prod:operation:*:scope:write";
        const text = (aud: unknown): string => JSON.stringify(doc(allow({ StringEquals: { [AUD]: aud }, StringLike: { [SUB]: sub } })));
        // Every search for a stack that takes two operations, to tell whether the radius looked for one.
        const searches: string[][] = [];
        const original = Object.getOwnPropertyDescriptor(Decider.prototype, "prefixCompletedBy")!;
        Decider.prototype.prefixCompletedBy = function (this: Decider, l, endings, least) {
            searches.push([...endings]);
            return (original.value as Decider["prefixCompletedBy"]).call(this, l, endings, least);
        };
        try {
            // Another organization's audience fails the statement: its finding carries the whole radius.
            const failing = analyzeTrustPolicy(text(["acme", "evil"]), ACME);
            assert.equal(failing.verdict, "fail");
            const f = only(failing);
            assert.equal(f.ruleId, "oidc-trust-aud-pinned");
            assert.deepEqual(
                f.blastRadius?.map((b) => [b.class, b.description, b.counterexample.sub]),
                [["every-operation-of-stack", "4 operations of one stack (a Deployments token for stack acme/web/prod (operation destroy))", "pulumi:deploy:org:acme:project:web:stack:prod:operation:destroy:scope:write"]],
            );
            assert.deepEqual(searches, [["preview:scope:write", "update:scope:write", "refresh:scope:write", "destroy:scope:write"]]);
            // Every operation of one named stack is no reason to fail: the statement passes, and nothing reports the
            // radius, so its operations are never looked for.
            searches.length = 0;
            const passing = analyzeTrustPolicy(text("acme"), ACME);
            assert.equal(passing.verdict, "pass");
            assert.deepEqual(passing.findings, []);
            assert.deepEqual(searches, []);
        } finally {
            Object.defineProperty(Decider.prototype, "prefixCompletedBy", original);
        }
    });

    it("finds two operations of one stack among more Deployments subjects than a listing holds (65 stacks, 300 stacks)", () => {
        const stack = (s: string, op: string): string => `pulumi:deploy:org:acme:project:web:stack:${s}:operation:${op}:scope:write`;
        const radius = (subs: string[]): Array<[string, string, string]> | undefined => {
            const r = analyzeTrustPolicy(JSON.stringify(doc(allow({ StringEquals: { [AUD]: ["acme", "evil"] }, StringLike: { [SUB]: subs } }))), ACME);
            return only(r).blastRadius?.map((b) => [b.class, b.description, b.counterexample.sub]);
        };
        const numbered = (n: number, op: string): string[] => Array.from({ length: n }, (_, i) => stack(`s${i + 1}`, op));
        // 65 stacks, every operation: 260 members, more than the 256 a listing of the set holds. The finding used to
        // be absent here.
        assert.deepEqual(radius(numbered(65, "*")), [["every-operation-of-stack", "4 operations of one stack (a Deployments token for stack acme/web/s1 (operation destroy))", stack("s1", "destroy")]]);
        // 300 stacks that each take one operation, and one that takes a second: that one is found, wherever it is.
        assert.deepEqual(radius([...numbered(300, "update"), stack("s250", "refresh")]), [
            ["every-operation-of-stack", "2 operations of one stack (a Deployments token for stack acme/web/s250 (operation refresh))", stack("s250", "refresh")],
        ]);
        // 300 stacks, one operation each: no stack takes two, so the class is absent.
        assert.deepEqual(radius(numbered(300, "update")), undefined);
        // 130 stacks whose operation is a pattern (`*date`: update only), about 10 KB: decided, nothing to report.
        assert.deepEqual(radius(numbered(130, "*date")), undefined);
        // Two operations of one stack spread over two values, beside stacks that take one each.
        assert.deepEqual(radius([stack("a", "update"), stack("b", "refresh"), stack("zz", "preview"), stack("zz", "update")]), [
            ["every-operation-of-stack", "2 operations of one stack (a Deployments token for stack acme/web/zz (operation update))", stack("zz", "update")],
        ]);
    });

    it("leaves the informational operations class out, with a note, when its search takes more than its allowance", () => {
        // Stacks whose operation is a pattern (`*date`: update only): deciding that no stack takes two explores every
        // stack's endings. 900 stacks take about 57,000 states, within the allowance: decided, nothing to report.
        const stacks = (n: number): string => {
            const subs = Array.from({ length: n }, (_, i) => `pulumi:deploy:org:acme:project:web:stack:s${i}:operation:*date:scope:write`);
            return JSON.stringify(doc(allow({ StringEquals: { [AUD]: ["acme", "evil"] }, StringLike: { [SUB]: subs } })));
        };
        const decided = analyzeTrustPolicy(stacks(900), ACME);
        assert.equal(decided.verdict, "fail");
        assert.deepEqual(decided.notes, []);
        // 2,000 stacks: the analysis has used 160,000 of its 250,000 states, and the search may take half of the rest,
        // fewer than it needs. The verdict stands (fail, for the other organization's audience), it is not turned into
        // an error, and a note says what was not decided.
        const r = analyzeTrustPolicy(stacks(2_000), ACME);
        assert.equal(r.verdict, "fail");
        assert.equal(only(r).blastRadius, undefined);
        assert.deepEqual(r.notes, [
            "Statement[0]: whether one Deployments stack is admitted for more than one operation (the informational blast class every-operation-of-stack) was not decided within its allowance (at most 100,000 automaton states, and half of the states and time the document's budget had left); the blast radius does not list it.",
        ]);
    });

    it("passes the DOMAIN.md pinned role and lists what it admits", () => {
        const r = analyzeTrustPolicy(
            JSON.stringify(doc(allow({ StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:acme:env:proj/prod" } }))),
            ACME,
        );
        assert.equal(r.verdict, "pass");
        assert.equal(r.usableFromPulumi, true);
        assert.deepEqual(r.admitted, [
            {
                issuer: "api.pulumi.com/oidc",
                audiences: ["aws:acme"],
                subjects: ["pulumi:environments:org:acme:env:proj/prod"],
                statements: [0],
                kinds: [{ kind: "esc", description: "ESC tokens: an ESC token for environment acme/proj/prod" }],
            },
        ]);
    });

    it("fails the public example (aud only) with a same-organization counterexample", () => {
        const f = only(analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme" } })), ACME));
        assert.equal(f.ruleId, "oidc-trust-sub-pinned");
        assert.equal(f.severity, "high");
        assert.deepEqual(f.location, { statementIndex: 0 });
        assert.equal(f.path, "Statement[0]");
        assert.deepEqual(f.counterexample, {
            issuer: "api.pulumi.com/oidc",
            aud: "aws:acme",
            sub: "pulumi:environments:org:acme:env:other/prod",
        });
        assert.match(f.message, /Statement\[0\].*no condition on api\.pulumi\.com\/oidc:sub/);
        assert.match(f.remediation, /StringEquals/);
    });

    it("blames the loose condition: StringLike aws:acme* admits aws:acme-evil (whatever the subject)", () => {
        const r = analyzeTrustPolicy(
            doc(allow({ StringLike: { [AUD]: "aws:acme*" }, StringEquals: { [SUB]: "pulumi:environments:org:acme:env:p/e" } })),
            ACME,
        );
        const f = only(r);
        assert.equal(f.ruleId, "oidc-trust-aud-pinned");
        // No issuable token pairs aws:acme-evil with acme's subject: the finding names the audience, not a token.
        assert.equal(f.counterexample, null);
        assert.match(f.message, /"aws:acme-evil"/);
        assert.match(f.message, /No token kind Pulumi issues today pairs it/);
        assert.deepEqual(f.location, { statementIndex: 0, operator: "StringLike", conditionKey: AUD });
        assert.equal(f.path, `Statement[0].Condition.StringLike["${AUD}"]`);
        assert.equal(r.admitted[0]!.audiences, null);
    });

    it("judges every Allow statement on its own", () => {
        const pinned = allow({ StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:acme:env:p/e" } });
        const loose = allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:environments:org:acme:*" } });
        const f = only(analyzeTrustPolicy(doc(pinned, loose), ACME));
        assert.equal(f.location.statementIndex, 1);
        assert.equal(f.location.conditionKey, SUB);
    });

    it("accepts a Deny that pins sub, and reports exactly what gets in", () => {
        const r = analyzeTrustPolicy(
            doc(allow({ StringEquals: { [AUD]: "aws:acme" } }), {
                Effect: "Deny",
                Principal: "*",
                Action: "sts:*",
                Condition: { StringNotEquals: { [SUB]: "pulumi:environments:org:acme:env:p/e" } },
            }),
            ACME,
        );
        assert.equal(r.verdict, "pass");
        assert.deepEqual(r.admitted[0]!.subjects, ["pulumi:environments:org:acme:env:p/e"]);
    });

    const subjects: Array<[string, string, RegExp]> = [
        ["a project prefix", "pulumi:environments:org:acme:env:pay*", /payroll\/prod/],
        ["a ? in the project name", "pulumi:environments:org:acme:env:pr?j/*", /prxj\//],
        ["the whole organization", "pulumi:environments:org:acme:env:*", /org:acme:env:/],
        ["any organization", "pulumi:environments:org:*", /^pulumi:environments:org:[a-z-]+:env:/],
    ];
    // Within one project: allowed under subjectScope "project" (advisory), a violation under "environment".
    const projectWide: Array<[string, string, RegExp]> = [
        ["a stack prefix in Deployments", "pulumi:deploy:org:acme:project:infra:stack:prod*", /stack:prod/],
        ["any legacy environment", "pulumi:environments:org:acme:env:dev-?", /env:dev-/],
        ["every environment of a project", "pulumi:environments:org:acme:env:payments/*", /env:payments\//],
        ["every stack of a project", "pulumi:deploy:org:acme:project:core:*", /project:core:stack:/],
    ];
    for (const [what, pattern, counter] of projectWide) {
        it(`reports a wildcard spanning ${what}: advisory by default, a violation with subjectScope "environment"`, () => {
            const d = doc(allow({ StringEquals: { [AUD]: ["acme", "aws:acme"] }, StringLike: { [SUB]: pattern } }));
            const project = analyzeTrustPolicy(d, ACME);
            assert.equal(project.verdict, "pass");
            const advisory = only(project);
            assert.equal(advisory.ruleId, "oidc-trust-sub-project-wide");
            assert.equal(advisory.advisory, true);
            assert.equal(advisory.severity, "low");
            assert.match(advisory.counterexample!.sub, counter);
            const env = only(analyzeTrustPolicy(d, { ...ACME, subjectScope: "environment" }));
            assert.equal(env.ruleId, "oidc-trust-sub-pinned");
            assert.equal(env.advisory, undefined);
            assert.match(env.counterexample!.sub, counter);
            assert.equal(env.blastRadius?.[0]?.class, "every-environment-of-project");
        });
    }
    for (const [what, pattern, counter] of subjects) {
        it(`fails a subject wildcard spanning ${what}`, () => {
            const f = only(analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: ["acme", "aws:acme"] }, StringLike: { [SUB]: pattern } })), ACME));
            assert.equal(f.ruleId, "oidc-trust-sub-pinned");
            assert.match(f.counterexample!.sub, counter);
            assert.notEqual(f.counterexample!.sub, pattern);
        });
    }

    const confined = [
        "pulumi:environments:org:acme:env:proj/*",
        "pulumi:environments:org:acme:env:proj/prod-*",
        "pulumi:deploy:org:acme:project:infra:stack:prod:*",
        "pulumi:deploy:org:acme:project:infra:stack:prod:operation:*:scope:write",
        "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:proj/*",
    ];
    for (const pattern of confined) {
        it(`passes a wildcard confined to the last segment: ${pattern}`, () => {
            const r = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: ["acme", "aws:acme"] }, StringLike: { [SUB]: pattern } })), ACME);
            assert.equal(r.verdict, "pass", JSON.stringify(r.findings));
        });
    }

    it("fails the shared inline-environment subject", () => {
        const f = only(
            analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:acme:env:<yaml>" } })), ACME),
        );
        assert.match(f.message, /pulumi\/pulumi#14509/);
    });

    it("without organizations, pins aud to literals and subjects to the audience's organization", () => {
        const ok = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:acme:env:p/e" } })));
        assert.equal(ok.verdict, "pass");
        // aws:acme is issued only with acme's subjects: beta's subject pairs with no token, nothing gets in.
        const other = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme", [SUB]: "pulumi:environments:org:beta:env:p/e" } })));
        assert.equal(other.verdict, "pass");
        assert.equal(other.usableFromPulumi, false);
        assert.deepEqual(other.findings.map((f) => [f.ruleId, f.advisory]), [["oidc-trust-unusable", true]]);
        const two = only(analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: ["aws:acme", "aws:beta"] }, StringLike: { [SUB]: "pulumi:environments:org:*:env:p/e" } }))));
        assert.equal(two.ruleId, "oidc-trust-aud-pinned");
        assert.match(two.message, /more than one organization/);
        assert.deepEqual(two.counterexample, { issuer: "api.pulumi.com/oidc", aud: "aws:beta", sub: "pulumi:environments:org:beta:env:p/e" });
        const glob = analyzeTrustPolicy(doc(allow({ StringLike: { [AUD]: "aws:acm?" }, StringEquals: { [SUB]: "pulumi:environments:org:acme:env:p/e" } })));
        assert.deepEqual(
            glob.findings.map((f) => f.ruleId),
            ["oidc-trust-aud-pinned"],
        );
    });

    it("honours allowedSubjects as language inclusion", () => {
        const options = { ...ACME, allowedSubjects: ["pulumi:environments:org:acme:env:proj/*"] };
        const inside = allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:environments:org:acme:env:proj/prod-*" } });
        assert.equal(analyzeTrustPolicy(doc(inside), options).verdict, "pass");
        const outside = allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:environments:org:acme:env:pro*" } });
        const f = only(analyzeTrustPolicy(doc(outside), options));
        assert.ok(!f.counterexample!.sub.startsWith("pulumi:environments:org:acme:env:proj/"));
    });

    it("requires exact subjects for the fn::open::oidc (v2) issuer but not its audience", () => {
        const v2 = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc/v2";
        const exact = allow({ StringEquals: { "api.pulumi.com/oidc/v2:sub": "pulumi:org:o-1:env:e-1" } }, { Federated: v2 });
        assert.equal(analyzeTrustPolicy(doc(exact), ACME).verdict, "pass");
        const wild = allow({ StringLike: { "api.pulumi.com/oidc/v2:sub": "pulumi:org:o-1:env:*" } }, { Federated: v2 });
        assert.equal(only(analyzeTrustPolicy(doc(wild), ACME)).counterexample?.issuer, "api.pulumi.com/oidc/v2");
    });

    it("treats IfExists on another issuer's key as no constraint for Pulumi tokens", () => {
        const shared = allow(
            {
                StringEquals: { [AUD]: "aws:acme" },
                StringEqualsIfExists: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main" },
            },
            { Federated: [PROVIDER, "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"] },
        );
        assert.equal(only(analyzeTrustPolicy(doc(shared), ACME)).ruleId, "oidc-trust-sub-pinned");
    });

    it("says which condition shuts a role to every Pulumi token: a misspelt claim (with the one meant), another issuer's claim", () => {
        const unusable = (d: object): TrustAnalysis["findings"][number] => {
            const r = analyzeTrustPolicy(d, ACME);
            assert.equal(r.usableFromPulumi, false);
            const f = r.findings.find((x) => x.ruleId === "oidc-trust-unusable");
            assert.ok(f, JSON.stringify(r.findings));
            return f;
        };
        for (const [written, meant] of [["api.pulumi.com/oidc:sbu", SUB], ["api.pulumi.com/oidc:sub ", SUB], ["API.PULUMI.COM/OIDC:ADU", AUD], ["api.pulumi.com/oidc:subs", SUB]] as const) {
            const f = unusable(doc(allow({ StringEquals: { [AUD]: "aws:acme", [written]: "pulumi:environments:org:acme:env:payments/prod" } })));
            assert.equal(f.location?.conditionKey, written);
            assert.equal(f.location?.statementIndex, 0);
            assert.ok(f.message.includes(`Statement[0]'s StringEquals on "${written}" tests a claim Pulumi's tokens do not carry, so it is never true for them (did you mean "${meant}"?)`), f.message);
            assert.doesNotMatch(f.message, /check the audience/);
        }
        const far = unusable(doc(allow({ StringEquals: { [AUD]: "aws:acme", "api.pulumi.com/oidc:subject": "x" } })));
        assert.doesNotMatch(far.message, /did you mean/);
        // A key of 5,000 characters is quoted cut (the location keeps it whole).
        const long = `api.pulumi.com/oidc:${"x".repeat(5000)}`;
        const cut = unusable(doc(allow({ StringEquals: { [AUD]: "aws:acme", [long]: "x" } })));
        assert.ok(cut.message.length < 700 && cut.message.includes("… (5020 characters)"), cut.message.slice(0, 300));
        assert.equal(cut.location?.conditionKey, long);
        // A GitHub key on a statement that trusts only Pulumi's provider.
        const github = unusable(doc(allow({ StringEquals: { [AUD]: "aws:acme", "token.actions.githubusercontent.com:sub": "repo:acme/app:*" } })));
        assert.match(github.message, /tests another issuer's claim, which Pulumi's tokens do not carry/);
        // Under IfExists the absent claim is true: that is not what shuts this role (its audience is another org's).
        const ifExists = unusable(doc(allow({ StringEquals: { [AUD]: "aws:globex", [SUB]: "pulumi:environments:org:acme:env:payments/prod" }, StringEqualsIfExists: { "api.pulumi.com/oidc:sbu": "x" } })));
        assert.match(ifExists.message, /check the audience of the token kind/);
        // One statement shut by a typo, another by its audience: both said.
        const both = unusable(
            doc(
                allow({ StringEquals: { [AUD]: "aws:acme", "api.pulumi.com/oidc:sbu": "x" } }),
                allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:deploy:org:acme:project:core:*" } }),
            ),
        );
        assert.match(both.message, /Statement\[0\]'s StringEquals on "api\.pulumi\.com\/oidc:sbu" .*; for the other statements, check the audience/);
        // Every token the Allow lets in is denied: the Deny is named, not the audience.
        const denyAll = { Effect: "Deny", Principal: "*", Action: "sts:AssumeRoleWithWebIdentity" };
        const denied = unusable(doc(allow({ StringEquals: { [AUD]: "aws:acme" } }), denyAll));
        assert.match(denied.message, /; every token Statement\[0\] lets in is denied by Statement\[1\]\.$/);
        assert.doesNotMatch(denied.message, /check the audience/);
        // A Deny that leaves some tokens in does not make the role unusable.
        const some = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme" } }), { ...denyAll, Condition: { StringNotEquals: { [SUB]: "pulumi:environments:org:acme:env:payments/prod" } } }), ACME);
        assert.equal(some.usableFromPulumi, true);
        assert.equal(some.findings.filter((f) => f.ruleId === "oidc-trust-unusable").length, 0);
    });

    it("passes roles no Pulumi token can use, with a note", () => {
        const typo = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme", "api.pulumi.com/oidc:sbu": "x" } })), ACME);
        assert.equal(typo.verdict, "pass");
        assert.equal(typo.usableFromPulumi, false);
        assert.match(typo.notes.join(" "), /cannot be assumed from Pulumi/);
        const github = analyzeTrustPolicy(
            doc(allow({}, { Federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" })),
            ACME,
        );
        assert.equal(github.verdict, "pass");
        assert.match(github.notes.join(" "), /out of scope/);
    });

    it("knows self-hosted issuers when configured", () => {
        const selfHosted = "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc";
        const d = doc(allow({ StringEquals: { "pulumi.example.com/oidc:aud": "aws:acme" } }, { Federated: selfHosted }));
        assert.equal(analyzeTrustPolicy(d, ACME).verdict, "pass");
        assert.equal(analyzeTrustPolicy(d, { ...ACME, issuers: ["https://pulumi.example.com/oidc"] }).verdict, "fail");
    });

    it("reports values unknown at preview instead of passing them", () => {
        const r = analyzeTrustPolicy(doc(allow(undefined, { Federated: UNKNOWN_SENTINELS[0] })));
        assert.equal(r.verdict, "unknown");
        assert.deepEqual(r.unknownPaths, ["Statement[0].Principal.Federated"]);
        assert.match(only(r).message, /cannot be verified during preview; enforced at update/);
    });

    it("fails closed with verdict error when the time budget per document runs out", () => {
        // About 1.5 KB of `*?` patterns: undecided after 250,000 states and 12 s without a time budget.
        const pat = (seed: string): string => Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "*?" : i % 3 === 1 ? "?*" : seed)).join("");
        const subs = Array.from({ length: 12 }, (_, i) => `pulumi:environments:org:acme:env:${pat(String.fromCharCode(97 + i))}`);
        const r = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: subs } })), {
            ...ACME,
            timeBudgetMs: 50,
        });
        assert.equal(r.verdict, "error");
        assert.match(only(r).message, /^the document is too complex to decide within 50 ms; split the policy or simplify its patterns$/);
    });

    it("a list of 150,000 values or principals is decided or fails closed by the budget, never overflows the stack", () => {
        // A list spread into a call passes each item on the stack: past about 125,000 the analysis died with
        // "Maximum call stack size exceeded"; sorting the first DFA states of a union of literals was quadratic.
        const many = (f: (i: number) => string): string[] => Array.from({ length: 150_000 }, (_, i) => f(i));
        const pinnedSub = { [SUB]: "pulumi:environments:org:acme:env:a/b" };
        const auds = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: many((i) => `aws:o${i}`), ...pinnedSub } })), { ...ACME, timeBudgetMs: 300 });
        assert.ok(["fail", "error"].includes(auds.verdict), auds.verdict);
        if (auds.verdict === "error") assert.match(only(auds).message, /^the document is too complex to decide within 300 ms/);
        const principals = analyzeTrustPolicy(
            doc(allow({ StringEquals: { [AUD]: "aws:acme", ...pinnedSub } }, { Federated: [PROVIDER, ...many((i) => `${PROVIDER}-${i}`)] })),
            { ...ACME, timeBudgetMs: 300 },
        );
        assert.ok(["pass", "error"].includes(principals.verdict), principals.verdict);
        // Fewer values are decided: 20,000 audiences, one of them another organization's.
        const some = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: ["aws:acme", ...many((i) => `aws:o${i}`).slice(0, 20_000)], ...pinnedSub } })), ACME);
        assert.equal(some.verdict, "fail");
        assert.ok(some.findings.some((f) => f.ruleId === "oidc-trust-aud-pinned"));
    });

    it("fails closed on invalid JSON and on documents too complex for the budget", () => {
        const bad = analyzeTrustPolicy('{"Statement": [');
        assert.equal(bad.verdict, "error");
        assert.match(only(bad).message, /not valid JSON/);
        const patterns = Array.from({ length: 30 }, (_, i) => `pulumi:*${"?".repeat(i % 5)}:env:*${i}*`);
        const heavy = analyzeTrustPolicy(doc(allow({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: patterns } })), {
            ...ACME,
            maxStates: 200,
        });
        assert.equal(heavy.verdict, "error");
        assert.match(only(heavy).message, /too complex to decide within 200 automaton states/);
    });
});
