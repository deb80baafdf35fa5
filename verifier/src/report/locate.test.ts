import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseTree, type Node } from "jsonc-parser";
import { MAX_JSON_DEPTH } from "../check/json.js";
import { PositionTree, SourceFile, parseJsonWithPositions } from "./locate.js";
import { FIXTURES, lineOf } from "./testdata/load.js";

const wildcard = readFileSync(join(FIXTURES, "sources", "trust-policy-sub-wildcard.json"), "utf8");
const pinned = readFileSync(join(FIXTURES, "sources", "trust-policy-pinned.json"), "utf8");
const stack = readFileSync(join(FIXTURES, "sources", "stack-export.json"), "utf8");
const SUB = "api.pulumi.com/oidc:sub";

describe("parseJsonWithPositions", () => {
    it("accepts what JSON.parse accepts and records offsets", () => {
        const text = '{ "a": [1, "x\\"y", {"b": null}], "c": -1.5e3 }';
        const root = parseJsonWithPositions(text);
        assert.ok(root && root.kind === "object");
        assert.deepEqual(
            root.entries.map((e) => [e.key, text.slice(e.value.start, e.value.end)]),
            [
                ["a", '[1, "x\\"y", {"b": null}]'],
                ["c", "-1.5e3"],
            ],
        );
    });

    it("records what a general JSON parser's syntax tree records, for any JSON written any way", () => {
        // The reference: jsonc-parser's tree (strict options), in the same shape.
        type Plain = { kind: string; start: number; end: number; entries?: unknown[]; items?: unknown[]; value?: string };
        const reference = (node: Node): Plain => {
            const at = { start: node.offset, end: node.offset + node.length };
            if (node.type === "object") {
                return { kind: "object", ...at, entries: (node.children ?? []).map((p) => ({ key: String(p.children![0]!.value), keyStart: p.children![0]!.offset, value: reference(p.children![1]!) })) };
            }
            if (node.type === "array") return { kind: "array", ...at, items: (node.children ?? []).map(reference) };
            if (node.type === "string") return { kind: "string", ...at, value: String(node.value) };
            return { kind: "scalar", ...at };
        };
        const key = fc.string({ unit: fc.constantFrom("a", "\"", "\\", "/", "\n", "\u2028", "é", "😀", "{", "]", ":", ",", " ") , maxLength: 6 });
        const value = fc.letrec((tie) => ({
            v: fc.oneof(
                { depthSize: "small" },
                key,
                fc.double({ noNaN: true, noDefaultInfinity: true }),
                fc.integer(),
                fc.constantFrom(true, false, null),
                fc.array(tie("v"), { maxLength: 4 }),
                fc.dictionary(key, tie("v"), { maxKeys: 4 }),
            ),
        })).v;
        fc.assert(
            fc.property(value, fc.constantFrom(undefined, 1, 2, "\t"), (v, indent) => {
                const text = ` ${JSON.stringify(v, null, indent)}\r\n`;
                const tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
                assert.ok(tree);
                assert.deepEqual(parseJsonWithPositions(text), reference(tree));
            }),
            { numRuns: 2000 },
        );
    });

    it("returns null for invalid or absurdly deep JSON instead of throwing", () => {
        for (const bad of ["", "{", '{"a": }', "[1,]", "{} x", "'a'", '["\\x"]', '{"a": "b', "[".repeat(10_000) + "]".repeat(10_000)]) {
            assert.equal(parseJsonWithPositions(bad), null, bad.slice(0, 20));
        }
        // The reader's own limit: as deep as `check` reads, and not one level deeper.
        assert.notEqual(parseJsonWithPositions("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH)), null);
        assert.equal(parseJsonWithPositions("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1)), null);
        assert.notEqual(parseJsonWithPositions(JSON.stringify(["[".repeat(MAX_JSON_DEPTH + 1)])), null, "brackets inside strings do not count");
    });
});

describe("SourceFile.locate", () => {
    it("points at the condition key of the offending statement", () => {
        const pos = new SourceFile(wildcard).locate({
            location: { statementIndex: 1, operator: "StringLike", conditionKey: SUB },
        });
        // The second occurrence of the sub key is the one under StringLike in Statement[1].
        const line = lineOf(wildcard, `"${SUB}"`, 1);
        const column = (wildcard.split("\n")[line - 1] ?? "").indexOf(`"${SUB}"`) + 1;
        assert.deepEqual(pos, { line, column, exact: true });
    });

    it("matches operator and key case-insensitively, as IAM does for keys", () => {
        const pos = new SourceFile(wildcard).locate({
            location: { statementIndex: 1, operator: "StringLike", conditionKey: SUB.toUpperCase() },
        });
        assert.equal(pos.line, lineOf(wildcard, `"${SUB}"`, 1));
        assert.equal(pos.exact, true);
    });

    it("points at the statement when the finding has no condition key, and handles a single-object Statement", () => {
        assert.equal(new SourceFile(wildcard).locate({ location: { statementIndex: 1 } }).line, lineOf(wildcard, '"Sid": "AnyAcme') - 1);
        const single = new SourceFile(pinned).locate({ location: { statementIndex: 0, conditionKey: SUB } });
        assert.deepEqual([single.line, single.exact], [lineOf(pinned, `"${SUB}"`), true]);
        // Statement is one object: there is no statement 1.
        assert.deepEqual(new SourceFile(pinned).locate({ location: { statementIndex: 1 } }), { line: 1, column: 1, exact: false });
    });

    it("falls back to the statement when the key is absent, to line 1 for a document-level finding", () => {
        const src = new SourceFile(wildcard);
        const missing = src.locate({ location: { statementIndex: 0, operator: "StringEquals", conditionKey: "api.pulumi.com/oidc:amr" } });
        assert.equal(missing.exact, false);
        assert.equal(missing.line, lineOf(wildcard, '"StringEquals"'));
        assert.deepEqual(src.locate({ location: {} }), { line: 1, column: 1, exact: false });
    });

    it("finds a resource by URN in a stack export and the line of its (string) trust policy", () => {
        const src = new SourceFile(stack);
        const urn = "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role";
        const resource = src.locate({ urn });
        assert.deepEqual([resource.line, resource.exact], [lineOf(stack, `"${urn}"`), true]);
        // The policy is a JSON string, held twice (inputs and outputs): the finding points at the inputs' copy.
        const finding = src.locate({ urn, location: { statementIndex: 0 } });
        const inputsLine = lineOf(stack, '"assumeRolePolicy"', 0);
        assert.equal(finding.line, inputsLine);
        assert.ok(finding.line > resource.line);
        assert.deepEqual(src.locate({ urn: "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::absent" }), { line: 1, column: 1, exact: false });
    });

    it("claims a line in non-JSON text only when the searched text occurs once", () => {
        const yaml = "roles:\n  a:\n    urn: urn:a\n    key: api.pulumi.com/oidc:sub\n  b:\n    urn: urn:b\n    key: api.pulumi.com/oidc:sub\n";
        const src = new SourceFile(yaml);
        assert.deepEqual(src.locate({ urn: "urn:b" }), { line: 6, column: 10, exact: false });
        assert.deepEqual(src.locate({ location: { conditionKey: SUB } }), { line: 1, column: 1, exact: false });
        assert.equal(new SourceFile("x: 1\nk: api.pulumi.com/oidc:sub\n").locate({ location: { conditionKey: SUB } }).line, 2);
    });
});

describe("SourceFile.statement", () => {
    it("extracts the statement, pretty-printed, from a file and from a policy embedded as a string", () => {
        const st = new SourceFile(wildcard).statement({ statementIndex: 1 });
        assert.equal((JSON.parse(st ?? "null") as { Sid: string }).Sid, "AnyAcmeEnvironment");
        const emb = new SourceFile(stack).statement({ urn: "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role", statementIndex: 0 });
        assert.deepEqual(JSON.parse(emb ?? "null"), {
            Effect: "Allow",
            Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "acme" } },
        });
        assert.equal(new SourceFile(wildcard).statement({ statementIndex: 5 }), undefined);
    });
});

describe("SourceFile over a large stack export", () => {
    /** A stack export of `n` roles, each with its trust policy as a string (inputs and outputs) and a parent. */
    const exportOf = (n: number, urn: (i: number) => string = (i) => `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`): string => {
        const policy = (i: number): string =>
            JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringEquals: { "api.pulumi.com/oidc:aud": `org-${i}` } } }] });
        const resources = Array.from({ length: n }, (_, i) => ({
            urn: urn(i),
            custom: true,
            type: "aws:iam/role:Role",
            parent: i > 0 ? urn(i - 1) : undefined,
            inputs: { name: `role-${i}`, assumeRolePolicy: policy(i) },
            outputs: { arn: `arn:aws:iam::123456789012:role/role-${i}`, assumeRolePolicy: policy(i) },
        }));
        return JSON.stringify({ version: 3, deployment: { resources } }, null, 2);
    };

    it("finds the same lines when told which URNs it will be asked about, and still finds one it was not told of", () => {
        const text = exportOf(50);
        const urns = Array.from({ length: 50 }, (_, i) => `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`);
        const every = new SourceFile(text);
        const told = new SourceFile(text, { urns: new Set(urns.slice(0, 10)) });
        for (const urn of [...urns.slice(0, 10), urns[40]!, urns[10]!, "urn:absent"]) {
            for (const location of [undefined, { statementIndex: 0, operator: "StringEquals", conditionKey: "api.pulumi.com/oidc:aud" }]) {
                const q = location ? { urn, location } : { urn };
                assert.deepEqual(told.locate(q), every.locate(q), urn);
            }
            assert.equal(told.statement({ urn, statementIndex: 0 }), every.statement({ urn, statementIndex: 0 }));
        }
        // The resource is the object whose `urn` it is, not the next one's `parent` that names it too.
        const line = lineOf(text, `"urn": "${urns[7]}"`);
        assert.deepEqual(every.locate({ urn: urns[7]! }), { line, column: text.split("\n")[line - 1]!.indexOf('"urn"') + 1, exact: true });
    });

    it("indexes the file at most twice: the URNs it was told of, then every string when asked for another", () => {
        const text = exportOf(5);
        const urn = (i: number): string => `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`;
        const proto = PositionTree.prototype;
        const original = Object.getOwnPropertyDescriptor(proto, "indexStringProperties")!;
        const index = original.value as PositionTree["indexStringProperties"];
        const calls: (number | undefined)[] = [];
        proto.indexStringProperties = function (this: PositionTree, only?: ReadonlySet<string>) {
            calls.push(only?.size);
            return index.call(this, only);
        };
        try {
            const src = new SourceFile(text, { urns: new Set([urn(0), urn(1)]) });
            for (const u of [urn(0), urn(1), urn(0)]) assert.equal(src.locate({ urn: u }).exact, true);
            assert.deepEqual(calls, [2]);
            for (let i = 0; i < 3; i++) assert.equal(src.locate({ urn: "urn:absent" }).exact, false);
            assert.equal(src.locate({ urn: urn(3) }).exact, true);
            assert.deepEqual(calls, [2, undefined]);
        } finally {
            Object.defineProperty(proto, "indexStringProperties", original);
        }
    });

    it("reads a URN written with escapes as its value", () => {
        const urn = (i: number): string => `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`;
        // The same export, with the second role's URN (and its reference as the third's parent) written escaped.
        const text = exportOf(3, urn).replace(`"${urn(1)}"`, `"\\u0075rn:pulumi:prod::big::aws:iam\\/role:Role::role-1"`);
        assert.ok(text.includes("\\u0075rn"));
        for (const options of [{}, { urns: new Set([urn(1)]) }]) {
            const pos = new SourceFile(text, options).locate({ urn: urn(1) });
            assert.deepEqual([pos.line, pos.exact], [lineOf(text, "\\u0075rn"), true]);
        }
    });

    it("gives the same positions when the text is known to be JSON as when it checks", () => {
        const text = exportOf(20);
        const checked = new SourceFile(text);
        const known = new SourceFile(text, { validJson: true });
        for (let i = 0; i < 20; i++) {
            const urn = `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`;
            assert.deepEqual(known.locate({ urn, location: { statementIndex: 0 } }), checked.locate({ urn, location: { statementIndex: 0 } }));
        }
        // Told nothing, a text that is not JSON has no tree: only a text search, which claims no exact line.
        assert.equal(new SourceFile(`${text},`).locate({ urn: "urn:pulumi:prod::big::aws:iam/role:Role::role-3" }).exact, false);
    });

    it("indexes each string by the smallest object that has it, the first of those (children first), for any JSON", () => {
        type Node = NonNullable<ReturnType<typeof parseJsonWithPositions>>;
        // The reference: a walk of the objects, each object's children before its own properties.
        const reference = (root: Node): Map<string, number> => {
            const index = new Map<string, number>();
            const visit = (node: Node): void => {
                if (node.kind === "object") {
                    for (const e of node.entries) visit(e.value);
                    for (const e of node.entries) if (e.value.kind === "string" && !index.has(e.value.value)) index.set(e.value.value, e.keyStart);
                } else if (node.kind === "array") for (const item of node.items) visit(item);
            };
            visit(root);
            return index;
        };
        const str = fc.string({ unit: fc.constantFrom("a", "b", "\"", "\\", "é"), maxLength: 3 });
        const value = fc.letrec((tie) => ({
            v: fc.oneof({ depthSize: "small" }, str, fc.integer(), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(str, tie("v"), { maxKeys: 4 })),
        })).v;
        fc.assert(
            fc.property(value, fc.array(str, { maxLength: 4 }), (v, asked) => {
                const text = JSON.stringify(v, null, 1);
                const tree = PositionTree.ofJson(text)!;
                const want = reference(parseJsonWithPositions(text)!);
                const at = (m: Map<string, { row: number; at: number }>): Map<string, number> => new Map([...m].map(([k, x]) => [k, x.at]));
                assert.deepEqual(at(tree.indexStringProperties()), want);
                const only = new Set(asked);
                assert.deepEqual(at(tree.indexStringProperties(only)), new Map([...want].filter(([k]) => only.has(k))));
            }),
            { numRuns: 2000 },
        );
    });

    it("keeps a tree of columns: each node's children, its key and its value", () => {
        const text = '{"a": [1, {"b": "x\\"y"}], "c\\n": "z"}';
        const tree = PositionTree.ofJson(text);
        assert.ok(tree);
        assert.equal(tree.size, 6);
        assert.deepEqual([...tree.children(0)].map((r) => [tree.key(r), tree.kind(r)]), [["a", "array"], ["c\n", "string"]]);
        assert.deepEqual([...tree.children(1)].map((r) => tree.kind(r)), ["scalar", "object"]);
        assert.equal(tree.string(4), 'x"y');
        assert.deepEqual(tree.indexStringProperties(), new Map([['x"y', { row: 3, at: text.indexOf('"b"') }], ["z", { row: 0, at: text.indexOf('"c') }]]));
        assert.deepEqual(tree.indexStringProperties(new Set(["z"])), new Map([["z", { row: 0, at: text.indexOf('"c') }]]));
        assert.equal(PositionTree.ofJson('{"a": 1,}'), null);
    });
});
