import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeJsonProblem, locateJsonError, parseJson } from "./json.js";

describe("parseJson", () => {
    it("parses valid JSON and ignores a UTF-8 BOM", () => {
        assert.deepEqual(parseJson('\uFEFF{"a": [1, true, null, "x"]}'), { ok: true, value: { a: [1, true, null, "x"] } });
    });

    it("locates a stray closing brace by line and column", () => {
        const r = parseJson('{\n  "a": 1,\n    }\n');
        assert.equal(r.ok, false);
        if (r.ok) return;
        assert.equal(describeJsonProblem(r.problem), "Expected a property name but found token } at line 3 column 5");
    });

    it("reports a missing value after a colon", () => {
        const p = locateJsonError('{"a": }');
        assert.deepEqual(p, { message: "Unexpected token }", line: 1, column: 7 });
    });

    it("reports truncation, trailing garbage, bad escapes, control characters and empty input", () => {
        assert.equal(locateJsonError('{"a": [1, 2').message, "Expected ',' or ']' but found end of input");
        assert.equal(locateJsonError('{"a": "b').message, "Unterminated string");
        assert.equal(locateJsonError("[1] x").message, "Unexpected token x after the JSON value");
        assert.equal(locateJsonError('["\\q"]').message, "Bad escape in string");
        assert.equal(locateJsonError('["a\nb"]').message, "Unexpected control character U+000A in string");
        assert.equal(locateJsonError("  \n ").message, "Empty input: expected a JSON value");
        assert.equal(locateJsonError("[1,]").message, "Unexpected token ]");
        assert.equal(locateJsonError("{'a': 1}").message, "Expected a property name or '}' but found token '");
        assert.equal(locateJsonError("[01]").message, "Expected ',' or ']' but found token 1");
    });

    it("never quotes more than one character of the input", () => {
        const secret = "s3cr3t-value-that-must-not-leak";
        for (const text of [`{"password": ${secret}}`, `{"password": "${secret}" "x": 1}`, `["${secret}"`]) {
            const r = parseJson(text);
            assert.equal(r.ok, false);
            if (!r.ok) assert.ok(!describeJsonProblem(r.problem).includes("s3cr3t"), describeJsonProblem(r.problem));
        }
    });

    it("agrees with JSON.parse on which texts are valid", () => {
        const samples = ["{}", "[]", '{"a":{"b":[{}]}}', "-0.5e+3", '"\\u00e9"', "[1,2", "{,}", '{"a" 1}', "tru", "1 2", "[-]"];
        for (const s of samples) {
            let valid = true;
            try {
                JSON.parse(s);
            } catch {
                valid = false;
            }
            assert.equal(parseJson(s).ok, valid, s);
            if (!valid) assert.notEqual(locateJsonError(s).message, "not valid JSON", s);
        }
    });
});
