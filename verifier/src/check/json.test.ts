import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    MAX_JSON_DEPTH,
    describeDuplicateKey,
    describeJsonProblem,
    duplicateKeysOf,
    findDuplicateKeys,
    locateJsonError,
    memberMarks,
    memberMarksOfBytes,
    parseJson,
} from "./json.js";

describe("parseJson", () => {
    it("parses valid JSON and ignores a UTF-8 BOM", () => {
        assert.deepEqual(parseJson('\uFEFF{"a": [1, true, null, "x"]}'), { ok: true, value: { a: [1, true, null, "x"] }, duplicates: [] });
    });

    it("locates a stray closing brace by line and column", () => {
        const r = parseJson('{\n  "a": 1,\n    }\n');
        assert.equal(r.ok, false);
        if (r.ok) return;
        assert.equal(describeJsonProblem(r.problem), "Expected a property name but found token } at line 3 column 5");
    });

    it("reports a missing value after a colon", () => {
        const p = locateJsonError('{"a": }');
        assert.deepEqual(p, { message: "Expected a value but found token }", line: 1, column: 7 });
    });

    it("reports truncation, trailing garbage, bad escapes, control characters and empty input", () => {
        assert.equal(locateJsonError('{"a": [1, 2').message, "Expected ',' or ']' but found end of input");
        assert.equal(locateJsonError('{"a": "b').message, "Unterminated string");
        assert.equal(locateJsonError("[1] 2").message, "Unexpected token 2 after the JSON value");
        assert.equal(locateJsonError('["\\q"]').message, "Bad escape in string");
        assert.equal(locateJsonError('["a\nb"]').message, "Unterminated string");
        assert.equal(locateJsonError('["a\u0001b"]').message, "Unexpected control character U+0001 in string");
        assert.equal(locateJsonError("  \n ").message, "Empty input: expected a JSON value");
        assert.equal(locateJsonError("[1,]").message, "Expected a value but found token ]");
        assert.equal(locateJsonError("{'a': 1}").message, "Unexpected token '");
        assert.equal(locateJsonError("[01]").message, "Expected ',' but found token 1");
        assert.equal(locateJsonError('{"a": 1} // no').message, "Comments are not allowed in JSON");
        assert.equal(locateJsonError('{"a": 1,}').message, "Expected a property name but found token }");
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

    it("reports every exact duplicate key with the path of its object, and ties it to the object", () => {
        const r = parseJson('{"Statement": [{"Condition": {"A": 1}, "Condition": {"B": 2}}], "x": {"k": 1, "k": 1}}');
        assert.ok(r.ok);
        if (!r.ok) return;
        assert.deepEqual(
            r.duplicates.map((d) => [d.key, d.path]),
            [
                ["Condition", "Statement[0]"],
                ["k", "x"],
            ],
        );
        const st = (r.value as { Statement: object[] }).Statement[0]!;
        assert.deepEqual(duplicateKeysOf(st).map((d) => d.key), ["Condition"]);
        assert.deepEqual(findDuplicateKeys(r.value).map((d) => d.key), ["Condition", "k"]);
        assert.match(describeDuplicateKey(r.duplicates[0]!), /^key "Condition" appears twice in the same object \(Statement\[0\]\) at line 1 column 40$/);
    });

    it("places every one of 20,000 repeats of keys, on many lines, and ties each to its own object", () => {
        // Lines and columns come from one index of line starts (counting from the start for each repeat was
        // quadratic: 200,000 repeats in a 3 MB file ran for minutes).
        const lines = ["{"];
        for (let i = 0; i < 10_000; i++) lines.push(`  "k${i % 3}": ${i},`);
        lines.push('  "inner": {"a": 1, "a": 2, "a": 3},');
        for (let i = 0; i < 10_000; i++) lines.push(`  "k${i % 3}": ${i},`);
        lines.push('  "end": true', "}");
        const text = lines.join("\n");
        const r = parseJson(text);
        assert.ok(r.ok);
        if (!r.ok) return;
        assert.equal(r.duplicates.length, 20_000 - 3 + 2);
        // Every repeat is where the text says: on its line, at its column.
        const src = text.split("\n");
        for (const d of r.duplicates) assert.equal(src[d.line - 1]!.indexOf(`"${d.key}"`, d.column - 2), d.column - 1, `${d.key} at ${d.line}:${d.column}`);
        assert.deepEqual([r.duplicates[0]!.line, r.duplicates[0]!.column], [5, 3]);
        const top = r.value as { inner: object };
        assert.equal(duplicateKeysOf(top).length, 20_000 - 3);
        assert.deepEqual(duplicateKeysOf(top.inner).map((d) => [d.key, d.path, d.line, d.column]), [
            ["a", "inner", 10_002, 21],
            ["a", "inner", 10_002, 29],
        ]);
    });

    it("finds duplicates on the fast path's terms: escaped quotes, keys that look like values, nesting, __proto__", () => {
        const cases: Array<[string, string[]]> = [
            ['{"a\\"": 1, "a\\"": 2}', ['a"']],
            ['{"a": "b\\\\", "c": {"d": 1, "d" : 2}}', ["d"]],
            ['{"a": ["x", "y:", {"k": "v"}], "b": "\\":"}', []],
            ['{"__proto__": 1, "__proto__": 2}', ["__proto__"]],
            ['[{"a": 1}, {"a": 1}]', []],
            ['{"s": "{[", "t": "]}", "u": {"v": 1,\n "v"\t: 2}}', ["v"]],
        ];
        for (const [text, keys] of cases) {
            const r = parseJson(text);
            assert.ok(r.ok, text);
            if (!r.ok) continue;
            assert.deepEqual(r.duplicates.map((d) => d.key), keys, text);
            assert.deepEqual(r.value, JSON.parse(text), text);
        }
    });

    it("is not fooled by keys spaced from their colon, or strings that start with a colon", () => {
        // The fast path counts quotes that a colon follows: a spaced key must count, and a string starting with ':'
        // (counted too) must not make up for a repeated key.
        const cases: Array<[string, string[]]> = [
            ['{"a" :1,"b":1,"b":2}', ["b"]],
            ['{"a"\n\t:1,"a":2}', ["a"]],
            ['{"x": ":", "x": ": "}', ["x"]],
            ['{"k": " :v", "k": 1, "m": ":"}', ["k"]],
            ['{"k": " :v", "m": ":"}', []],
            ['{"s": "\\\\\\\\", "t" : {"u":"\\\\\\":"}}', []],
        ];
        for (const [text, keys] of cases) {
            const r = parseJson(text);
            assert.ok(r.ok, text);
            if (r.ok) assert.deepEqual(r.duplicates.map((d) => d.key), keys, text);
        }
    });

    it("finds exactly the repeated keys of random objects, however they are spaced and whatever their strings hold", () => {
        // Strings made of the characters that matter to the fast path: quotes, backslashes, colons, whitespace.
        const str = fc.string({ unit: fc.constantFrom("a", "b", ":", '"', "\\", " ", "\n", "{", "]"), maxLength: 6 });
        const space = fc.constantFrom("", " ", "\n", "\t ", "\r\n");
        interface Obj {
            members: Array<{ key: string; value: Obj | string; before: string; after: string }>;
        }
        const obj: fc.Arbitrary<Obj> = fc.letrec<{ obj: Obj }>((tie) => ({
            obj: fc.record({
                members: fc.array(
                    fc.record({
                        key: fc.constantFrom("a", "b", ":", '"', "a:"),
                        value: fc.oneof({ maxDepth: 3 }, str, tie("obj")),
                        before: space,
                        after: space,
                    }),
                    { maxLength: 5 },
                ),
            }),
        })).obj;
        const write = (o: Obj): string =>
            `{${o.members.map((m) => `${JSON.stringify(m.key)}${m.before}:${m.after}${typeof m.value === "string" ? JSON.stringify(m.value) : write(m.value)}`).join(",")}}`;
        const repeats = (o: Obj): string[] => {
            const out: string[] = [];
            const seen = new Set<string>();
            for (const m of o.members) {
                if (seen.has(m.key)) out.push(m.key);
                seen.add(m.key);
                if (typeof m.value !== "string") out.push(...repeats(m.value));
            }
            return out;
        };
        fc.assert(
            fc.property(obj, (o) => {
                const text = write(o);
                const r = parseJson(text);
                assert.ok(r.ok, text);
                if (r.ok) assert.deepEqual(r.duplicates.map((d) => d.key).sort(), repeats(o).sort(), text);
            }),
            { numRuns: 2000 },
        );
    });

    it("refuses nesting deeper than MAX_JSON_DEPTH without recursing (100,000 levels)", () => {
        const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
        const r = parseJson(deep);
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(describeJsonProblem(r.problem), `nested deeper than ${MAX_JSON_DEPTH} levels at line 1 column ${MAX_JSON_DEPTH + 1}`);
        assert.equal(parseJson(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`).ok, true);
        const inStrings = JSON.stringify(["[".repeat(MAX_JSON_DEPTH + 5), { a: "{".repeat(MAX_JSON_DEPTH + 5) }]);
        assert.equal(parseJson(inStrings).ok, true, "brackets inside strings do not count");
    });

    it("takes member marks counted elsewhere, and a wrong count only sends the text down the slow path", () => {
        const text = '{"a": 1, "b": {"c": "x:y", "c": 2}}';
        const marks = memberMarks(text);
        assert.equal(marks, 4);
        let asked = 0;
        const given = (n: number | undefined) => () => {
            asked++;
            return n;
        };
        // The right count finds the duplicate as counting here does; no count, or a wrong one, too.
        for (const counted of [given(marks), given(undefined), given(marks + 1), given(0)]) {
            const r = parseJson(text, counted);
            assert.ok(r.ok);
            if (r.ok) assert.deepEqual(r.duplicates.map((d) => d.key), ["c"]);
        }
        assert.equal(asked, 4);
        // Without a duplicate: the count equals the key count, and the fast path takes it.
        const clean = '{"a": 1, "b": {"c": 2}}';
        const r = parseJson(clean, given(memberMarks(clean)));
        assert.deepEqual(r, { ok: true, value: { a: 1, b: { c: 2 } }, duplicates: [] });
    });
});

describe("memberMarksOfBytes", () => {
    it("counts over UTF-8 bytes what memberMarks counts over the decoded text", () => {
        // Texts built from the characters that matter (colons, quotes, backslashes, JSON whitespace) and characters
        // whose UTF-8 encoding is longer than a byte, with and without a byte order mark; JSON or not.
        const piece = fc.constantFrom(":", '"', "\\", "\\\\", " ", "\n", "\t", "\r", "a", "{", "}", "[", "]", ",", "\u00e9", "\u20ac", "\u{1F600}", "\u00ba", "\u3a3a");
        fc.assert(
            fc.property(fc.boolean(), fc.array(piece, { maxLength: 60 }), (bom, pieces) => {
                const text = `${bom ? "\uFEFF" : ""}${pieces.join("")}`;
                const bytes = new TextEncoder().encode(text);
                assert.equal(memberMarksOfBytes(bytes), memberMarks(text), JSON.stringify(text));
            }),
            { numRuns: 3000 },
        );
        // Over real JSON with keys, escaped quotes and strings that hold colons.
        const doc = JSON.stringify({ "k\u00e9y": 'v "a": 1', "\\": [{ ":": ":" }], x: { y: "\\\": z" } }, null, 2);
        assert.equal(memberMarksOfBytes(new TextEncoder().encode(doc)), memberMarks(doc));
        // Five keys, and two quotes more that a colon follows: the ones opening the key ":" and the value ":".
        assert.equal(memberMarks(doc), 7);
    });
});
