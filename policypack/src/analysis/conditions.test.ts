/**
 * Tests of conditions.ts: the readings a statement's box carries where the analysis approximates (DOMAIN.md §5,
 * "Readings under ambiguity": take the reading that lets more in, and say so in the finding), and the policy
 * variables it names.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Alphabet } from "./automata.js";
import { classifyKey, conditionBox, unknownVariables, type Mode } from "./conditions.js";
import { parseDocument } from "./document.js";
import { analyzeTrustPolicy } from "./index.js";

const ISSUER = "api.pulumi.com/oidc";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;
const AUD = `${ISSUER}:aud`;
const SUB = `${ISSUER}:sub`;
const ESC = "pulumi:environments:org:acme:env:payments/prod";

function statement(effect: "Allow" | "Deny", condition: Record<string, Record<string, unknown>>): Record<string, unknown> {
    return { Effect: effect, Principal: { Federated: PROVIDER }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition };
}

/** The readings of the box of one statement with `condition`, as an Allow (over) or a Deny (under). */
function readingsOf(mode: Mode, condition: Record<string, Record<string, unknown>>): string[] {
    const [st] = parseDocument({ Version: "2012-10-17", Statement: [statement(mode === "over" ? "Allow" : "Deny", condition)] });
    return conditionBox(st!, ISSUER, mode, new Alphabet()).readings;
}

describe("classifyKey", () => {
    it("reads a web identity claim by the host before the key's first colon; a service's key by its prefix, whatever its tag key holds", () => {
        const cases: Array<[string, string]> = [
            [AUD, "aud"],
            ["API.pulumi.com/OIDC:SUB", "sub"],
            [`${ISSUER}:amr`, "context"],
            [`${ISSUER}:sbu`, "absent"],
            ["token.actions.githubusercontent.com:sub", "absent"],
            ["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub", "absent"],
            ["aws:SourceIp", "context"],
            ["aws:PrincipalTag/team", "context"],
            // Tag keys may hold dots and colons: still the service's key, not another issuer's claim.
            ["iam:ResourceTag/example.com:team", "context"],
            ["aws:ResourceTag/example.com:env", "context"],
            ["aws:PrincipalTag/team.x:env", "context"],
            ["sts:RoleSessionName", "context"],
            ["nocolon", "context"],
        ];
        for (const [key, kind] of cases) assert.equal(classifyKey(key, ISSUER), kind, key);
    });

    it("a tag key with a dot and a colon neither shuts an Allow nor makes a Deny certain", () => {
        const allow = (c: Record<string, Record<string, unknown>>): Record<string, unknown> => statement("Allow", c);
        const tagAllow = analyzeTrustPolicy(
            { Version: "2012-10-17", Statement: [allow({ StringEquals: { [AUD]: "aws:acme", "iam:ResourceTag/example.com:team": "payroll" } })] },
            { organizations: ["acme"] },
        );
        assert.equal(tagAllow.verdict, "fail");
        const tagDeny = analyzeTrustPolicy(
            {
                Version: "2012-10-17",
                Statement: [allow({ StringEquals: { [AUD]: "aws:acme" } }), { ...statement("Deny", { StringNotEquals: { "aws:ResourceTag/example.com:env": "prod" } }), Principal: "*" }],
            },
            { organizations: ["acme"] },
        );
        assert.equal(tagDeny.verdict, "fail");
    });
});

describe("policy variables exist only in a document of version 2012-10-17", () => {
    const withVersion = (version: string | undefined): Record<string, unknown> => ({
        ...(version === undefined ? {} : { Version: version }),
        Statement: [statement("Allow", { StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:environments:org:acme:env:${aws:username}" } })],
    });

    it("2012-10-17: the variable stands for any text, and the finding says so", () => {
        const r = analyzeTrustPolicy(withVersion("2012-10-17"), { organizations: ["acme"] });
        assert.equal(r.verdict, "fail");
        assert.ok((r.readings ?? []).some((x) => x.includes("${aws:username}")), JSON.stringify(r.readings));
    });

    for (const version of ["2008-10-17", undefined]) {
        it(`${version ?? "no Version"}: the variable is literal text, which no subject Pulumi issues holds: nothing gets in`, () => {
            const r = analyzeTrustPolicy(withVersion(version), { organizations: ["acme"] });
            assert.equal(r.verdict, "pass");
            assert.equal(r.usableFromPulumi, false);
            assert.equal(r.readings, undefined);
        });
    }

    it("2008-10-17: a literal value with `${` still pins what it spells", () => {
        const doc = { Version: "2008-10-17", Statement: [statement("Allow", { StringEquals: { [AUD]: "aws:acme", [SUB]: ["pulumi:environments:org:acme:env:${x}", ESC] } })] };
        const r = analyzeTrustPolicy(doc, { organizations: ["acme"] });
        assert.equal(r.verdict, "pass");
        // The literal `${x}` is no subject Pulumi issues (`$` is no name character): only the pinned one is admitted.
        assert.deepEqual(r.admitted[0]?.subjects, [ESC]);
        assert.equal(r.readings, undefined);
    });
});

describe("unknownVariables", () => {
    it("names each variable once, not the literal characters ${*}, ${?} and ${$}", () => {
        assert.deepEqual(unknownVariables(["a${*}b${?}c${$}d"]), []);
        assert.deepEqual(unknownVariables(["x/${aws:username}", "y/${aws:username}", "${aws:PrincipalTag/org}"]), ["${aws:username}", "${aws:PrincipalTag/org}"]);
        assert.deepEqual(unknownVariables(["${*}${x}"]), ["${x}"]);
        assert.deepEqual(unknownVariables(["${}"]), ["${}"]);
        assert.deepEqual(unknownVariables(["${unclosed"]), []);
    });

    it("names at most three, and cuts a long one", () => {
        assert.deepEqual(unknownVariables(["${a}${b}", "${c}${d}"]), ["${a}", "${b}", "${c}"]);
        const [long] = unknownVariables([`\${${"v".repeat(500)}}`]);
        assert.ok(long!.length < 150, long);
        assert.match(long!, /^\$\{v+… \(503 characters\)$/);
    });
});

describe("conditionBox readings", () => {
    it("none for string operators with literal values and globs, nor for request context in an Allow", () => {
        assert.deepEqual(readingsOf("over", { StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:*" } }), []);
        assert.deepEqual(readingsOf("over", { IpAddress: { "aws:SourceIp": "10.0.0.0/8" }, StringEquals: { [SUB]: ESC } }), []);
        assert.deepEqual(readingsOf("under", { StringNotEquals: { [SUB]: ESC } }), []);
    });

    for (const op of ["Bool", "NumericEquals", "DateGreaterThan", "BinaryEquals", "IpAddress", "ArnLike", "ArnNotEquals", "ForAnyValue:NumericLessThan"]) {
        it(`${op} on sub: read as true in an Allow, as false in a Deny, and said`, () => {
            const [over] = readingsOf("over", { [op]: { [SUB]: "true" } });
            assert.equal(over, `${op} on "${SUB}" is not a string operator, and IAM does not document its result on this claim (a string): it is read as true (an Allow is assumed to apply)`);
            const [under] = readingsOf("under", { [op]: { [SUB]: "true" } });
            assert.match(under!, /it is read as false \(a Deny is assumed not to apply\)$/);
        });
    }

    it("a policy variable in a value: any text where that lets more in, no token where that does", () => {
        assert.deepEqual(readingsOf("over", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:${aws:username}/*" } }), [
            `"\${aws:username}" in StringLike on "${SUB}" is a policy variable whose value the analysis does not know: read as any text, the reading that lets more in`,
        ]);
        // A negated operator in an Allow excludes what its values match: the variable's value is read as matching nothing.
        assert.match(readingsOf("over", { StringNotEquals: { [AUD]: ["${aws:username}", "${aws:userid}"] } })[0]!, /^"\$\{aws:username\}", "\$\{aws:userid\}" in StringNotEquals on ".*:aud" are policy variables .*: the values that hold one are read as matching no token, the reading that lets more in$/);
        assert.match(readingsOf("under", { StringEquals: { [SUB]: "${aws:username}" } })[0]!, /the values that hold one are read as matching no token/);
        assert.match(readingsOf("under", { StringNotLike: { [SUB]: "${aws:username}" } })[0]!, /read as any text/);
        assert.deepEqual(readingsOf("over", { StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/${*}" } }), []);
    });

    it("a Deny that tests the request's context or an unmodelled claim is taken as not applying, and says which", () => {
        assert.deepEqual(readingsOf("under", { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" }, StringNotEquals: { [SUB]: ESC } }), [
            `NotIpAddress on "aws:SourceIp" tests the request's context, which the analysis does not see: the Deny is taken as not applying (it does not stop a request that fails this condition)`,
        ]);
        assert.match(readingsOf("under", { StringEquals: { [`${ISSUER.toUpperCase()}:AMR`]: "x" } })[0]!, /on "API\.PULUMI\.COM\/OIDC:AMR" tests a claim the analysis does not model: the Deny is taken as not applying/);
    });
});

describe("findings say the reading they rest on", () => {
    const options = { organizations: ["acme"] };

    it("a non-string operator on sub is no pin: the finding says its condition does not compare the subject, and why it is read so", () => {
        const r = analyzeTrustPolicy({ Version: "2012-10-17", Statement: [statement("Allow", { StringEquals: { [AUD]: "aws:acme" }, Bool: { [SUB]: "true" } })] }, options);
        assert.equal(r.verdict, "fail");
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-sub-pinned");
        assert.ok(f, JSON.stringify(r.findings));
        assert.match(f.message, new RegExp(`its condition on ${SUB.replace(/[./]/g, "\\$&")} \\(Bool\\) does not compare its value`));
        assert.match(f.message, /This verdict rests on a reading: Statement\[0\]: Bool on ".*:sub" is not a string operator/);
        assert.equal(f.location?.operator, "Bool");
        assert.deepEqual(r.admitted?.[0]?.subjects, ["*"]);
    });

    it("an audience compared by a non-string operator only is no pin either", () => {
        const r = analyzeTrustPolicy({ Version: "2012-10-17", Statement: [statement("Allow", { NumericEquals: { [AUD]: "1" }, StringEquals: { [SUB]: ESC } })] }, options);
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-aud-pinned");
        assert.ok(f, JSON.stringify(r.findings));
        assert.match(f.message, /its condition on .*:aud \(NumericEquals\) does not compare its value/);
        assert.match(f.message, /NumericEquals on ".*:aud" is not a string operator/);
    });

    it("a Deny on the request's context does not pin the subject, and the finding says it was taken as not applying", () => {
        const doc = {
            Version: "2012-10-17",
            Statement: [
                statement("Allow", { StringEquals: { [AUD]: "aws:acme" } }),
                statement("Deny", { StringNotEquals: { [SUB]: ESC }, NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }),
            ],
        };
        const r = analyzeTrustPolicy(doc, options);
        assert.equal(r.verdict, "fail");
        const f = r.findings.find((x) => x.ruleId === "oidc-trust-sub-pinned");
        assert.ok(f);
        assert.match(f.message, /This verdict rests on a reading: Statement\[1\] \(Deny\): NotIpAddress on "aws:SourceIp" tests the request's context/);
        // The same Deny without the context condition pins the subject: no reading, a pass.
        const pinned = analyzeTrustPolicy({ ...doc, Statement: [doc.Statement[0], statement("Deny", { StringNotEquals: { [SUB]: ESC } })] }, options);
        assert.equal(pinned.verdict, "pass", JSON.stringify(pinned.findings));
        assert.equal(pinned.readings, undefined);
    });

    it("a pass keeps its readings on the result, and a cached shape says the same as a fresh analysis", () => {
        const doc = (env: string): unknown => ({
            Version: "2012-10-17",
            Statement: [statement("Allow", { StringEquals: { [AUD]: "aws:acme", [SUB]: `pulumi:environments:org:acme:env:payments/${env}` }, Bool: { [AUD]: "true" } })],
        });
        const first = analyzeTrustPolicy(JSON.stringify(doc("prod")), options);
        assert.equal(first.verdict, "pass", JSON.stringify(first.findings));
        assert.deepEqual(first.readings, [`Statement[0]: Bool on "${AUD}" is not a string operator, and IAM does not document its result on this claim (a string): it is read as true (an Allow is assumed to apply)`]);
        for (const env of ["dev", "staging", "qa"]) assert.deepEqual(analyzeTrustPolicy(JSON.stringify(doc(env)), options).readings, first.readings, env);
    });
});
