import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forPulumiDisplay } from "./display.js";

describe("forPulumiDisplay", () => {
    it("breaks Pulumi's colour delimiters: `<{%x%}>` reaches the colorizer as text", () => {
        assert.equal(forPulumiDisplay("StringEquals<{%evil%}>"), "StringEquals<{\\u0025evil\\u0025}>");
        assert.equal(forPulumiDisplay("<{%reset%}><{%fg 1%}>"), "<{\\u0025reset\\u0025}><{\\u0025fg 1\\u0025}>");
        assert.ok(!forPulumiDisplay("a<{%<{%%}>%}>b").includes("<{%"));
        assert.ok(!forPulumiDisplay("a<{%<{%%}>%}>b").includes("%}>"));
    });

    it("shows every control character as an escape: C0, DEL, C1, line separators, bidi controls", () => {
        assert.equal(forPulumiDisplay("a\u001b[31mb\u0007c"), "a\\x1b[31mb\\x07c");
        assert.equal(forPulumiDisplay("\u007f\u009b\u0085"), "\\x7f\\x9b\\x85");
        assert.equal(forPulumiDisplay("\u2028\u2029"), "\\u2028\\u2029");
        assert.equal(forPulumiDisplay("\u202e\u200f\u2066"), "\\u202e\\u200f\\u2066");
        assert.equal(forPulumiDisplay("x\ny\r\tz"), "x\\ny\\r\\tz");
    });

    it("shows the `[` of a CI runner's in-line command (`##[`, `##vso[` in any case) as `\\u005b`", () => {
        assert.equal(forPulumiDisplay("role ##[add-mask]x"), "role ##\\u005badd-mask]x");
        assert.equal(forPulumiDisplay("a##vso[task.setvariable variable=OK]true ##VSO[x]"), "a##vso\\u005btask.setvariable variable=OK]true ##VSO\\u005bx]");
        assert.equal(forPulumiDisplay("# [x] ## [y] #[z]"), "# [x] ## [y] #[z]");
    });

    it("leaves ordinary text as it is", () => {
        const text = 'assumeRolePolicy.Statement[0]: aud "aws:acme", sub "pulumi:environments:org:acme:env:a/*" (100% {ok}) <b> ü 日本';
        assert.equal(forPulumiDisplay(text), text);
    });
});
