import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { definitionOpensAwsLogin, mapPool } from "./batch.js";

describe("batch helpers", () => {
    it("mapPool keeps order and never runs more than the limit at once", async () => {
        let now = 0;
        let max = 0;
        const out = await mapPool([...Array(25).keys()], 4, async (n) => {
            now++;
            max = Math.max(max, now);
            await new Promise((r) => setTimeout(r, (n * 7) % 5));
            now--;
            return n * 2;
        });
        assert.deepEqual(out, [...Array(25).keys()].map((n) => n * 2));
        assert.equal(max, 4);
        assert.deepEqual(await mapPool([], 4, () => Promise.resolve(1)), []);
    });

    it("recognizes definitions that open aws-login (either syntax, at any depth)", () => {
        assert.equal(definitionOpensAwsLogin({ values: { aws: { login: { "fn::open::aws-login": { oidc: {} } } } } }), true);
        assert.equal(definitionOpensAwsLogin({ values: { x: [{ "fn::open": { provider: "aws-login", inputs: {} } }] } }), true);
        assert.equal(definitionOpensAwsLogin({ values: { x: { "fn::open": { provider: "gcp-login" } } } }), false);
        assert.equal(definitionOpensAwsLogin({ imports: ["aws-base"], values: { a: 1 } }), false);
        assert.equal(definitionOpensAwsLogin("values: x"), false);
        assert.equal(definitionOpensAwsLogin(null), false);
    });
});
