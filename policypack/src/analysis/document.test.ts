import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PolicyDocumentError, actionMatches, parseDocument, parseOperator } from "./document.js";

const base = {
    Effect: "Allow",
    Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
    Action: "sts:AssumeRoleWithWebIdentity",
};

function errorOf(doc: unknown): { message: string; path: string } {
    try {
        parseDocument(doc);
    } catch (e) {
        if (e instanceof PolicyDocumentError) return { message: e.message, path: e.path };
        throw e;
    }
    assert.fail("expected a PolicyDocumentError");
}

describe("parseDocument", () => {
    it("accepts Statement as an object or an array", () => {
        assert.equal(parseDocument({ Statement: base })[0]!.path, "Statement");
        assert.equal(parseDocument({ Statement: [base, base] })[1]!.path, "Statement[1]");
    });

    it("reads conditions with their operator, key and stringified values", () => {
        const [st] = parseDocument({
            Statement: [{ ...base, Condition: { "ForAnyValue:StringLikeIfExists": { "a.b/c:sub": ["x", 1, true] } } }],
        });
        const c = st!.clauses[0]!;
        assert.equal(c.operator.stringOp, "StringLike");
        assert.equal(c.operator.ifExists, true);
        assert.equal(c.operator.set, "ForAnyValue");
        assert.deepEqual(c.values, ["x", "1", "true"]);
        assert.equal(c.path, 'Statement[0].Condition.ForAnyValue:StringLikeIfExists["a.b/c:sub"]');
    });

    const bad: Array<[string, unknown, RegExp, string]> = [
        ["not an object", [], /must be a JSON object/, ""],
        ["no Statement", { Version: "2012-10-17" }, /no Statement/, "Statement"],
        ["Statement a string", { Statement: "x" }, /object or an array/, "Statement"],
        ["bad Effect", { Statement: [{ ...base, Effect: "allow" }] }, /Effect must be/, "Statement[0].Effect"],
        ["no Principal", { Statement: [{ Effect: "Allow", Action: "x" }] }, /needs a Principal/, "Statement[0]"],
        ["Principal number", { Statement: [{ ...base, Principal: 3 }] }, /Principal must be/, "Statement[0].Principal"],
        ["unknown principal type", { Statement: [{ ...base, Principal: { Fed: "x" } }] }, /unknown principal type/, "Statement[0].Principal.Fed"],
        ["Action object", { Statement: [{ ...base, Action: {} }] }, /Action must be a string/, "Statement[0].Action"],
        ["both Action and NotAction", { Statement: [{ ...base, NotAction: "x" }] }, /both Action and NotAction/, "Statement[0]"],
        [
            "unknown operator",
            { Statement: [{ ...base, Condition: { StringEqualz: { k: "v" } } }] },
            /unknown condition operator "StringEqualz"/,
            "Statement[0].Condition.StringEqualz",
        ],
        [
            "IfExists on Null",
            { Statement: [{ ...base, Condition: { NullIfExists: { k: "true" } } }] },
            /unknown condition operator/,
            "Statement[0].Condition.NullIfExists",
        ],
        [
            "key twice in different case",
            { Statement: [{ ...base, Condition: { StringEquals: { "a.b:aud": "x", "A.B:AUD": "y" } } }] },
            /appears twice under StringEquals/,
            'Statement[0].Condition.StringEquals["A.B:AUD"]',
        ],
        [
            "object value",
            { Statement: [{ ...base, Condition: { StringEquals: { k: { v: 1 } } } }] },
            /has a value that is an object/,
            'Statement[0].Condition.StringEquals["k"]',
        ],
        [
            "empty value list",
            { Statement: [{ ...base, Condition: { StringEquals: { k: [] } } }] },
            /empty value list/,
            'Statement[0].Condition.StringEquals["k"]',
        ],
        [
            "Null with a non-boolean",
            { Statement: [{ ...base, Condition: { Null: { k: "maybe" } } }] },
            /must be "true" or "false"/,
            'Statement[0].Condition.Null["k"]',
        ],
    ];
    for (const [name, doc, message, path] of bad) {
        it(`fails closed on ${name}`, () => {
            const e = errorOf(doc);
            assert.match(e.message, message);
            assert.equal(e.path, path);
        });
    }
});

describe("parseOperator", () => {
    it("is case-insensitive and knows negation", () => {
        assert.equal(parseOperator("stringnotlike")?.negated, true);
        assert.equal(parseOperator("ArnNotLike")?.family, "other");
        assert.equal(parseOperator("ArnNotLike")?.negated, true);
        assert.equal(parseOperator("ForSomeValues:StringEquals"), null);
    });
});

describe("actionMatches", () => {
    const cases: Array<[string, boolean]> = [
        ["sts:AssumeRoleWithWebIdentity", true],
        ["STS:assumerolewithwebidentity", true],
        ["sts:AssumeRole*", true],
        ["sts:*", true],
        ["*", true],
        ["sts:AssumeRole", false],
        ["sts:AssumeRoleWith?ebIdentity", true],
        ["sts:AssumeRoleWithSAML", false],
        ["iam:*", false],
    ];
    for (const [pattern, expected] of cases) {
        it(`${pattern} ${expected ? "matches" : "does not match"}`, () => {
            assert.equal(actionMatches(pattern, "sts:AssumeRoleWithWebIdentity"), expected);
        });
    }
});
