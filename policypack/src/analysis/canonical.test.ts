/**
 * The renaming behind the shape cache (canonical.ts): documents that differ only in names share one analysis, the
 * renamed analysis read back agrees with the analysis of the document as written, and documents the renaming
 * cannot treat exactly are analysed as written.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { GLUED, KEYWORDS, canonicalize, compileReadBack, madeUpSegments, readBack, readBackMember, spellsAName } from "./canonical.js";
import { DEFAULT_ISSUERS } from "./constants.js";
import { orgOfAnyAudience } from "./grammar.js";
import { parseDocument } from "./document.js";
import { analyzeTrustPolicy, analyzeTrustPolicyAsWritten } from "./trust-policy.js";
import type { AnalysisOptions, TrustAnalysis } from "./types.js";
import { checkCounterexamples, describeFinding } from "../testing/reference-evaluator.js";

const V1 = "api.pulumi.com/oidc";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const WEB = "sts:AssumeRoleWithWebIdentity";

function doc(...conditions: Array<Record<string, Record<string, string | string[]>> | { deny: Record<string, Record<string, string | string[]>> }>): object {
    return {
        Version: "2012-10-17",
        Statement: conditions.map((c) =>
            "deny" in c
                ? { Effect: "Deny", Principal: "*", Action: WEB, Condition: c.deny }
                : { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: c },
        ),
    };
}

function shapeOf(d: object, options: AnalysisOptions = {}): string | null {
    const c = canonicalize(parseDocument(d), options, DEFAULT_ISSUERS);
    return c ? JSON.stringify([c.statements, c.options]) : null;
}

/** What must agree exactly: verdict, usability, and each finding's rule, place and blast classes. */
function summary(r: TrustAnalysis): unknown {
    return {
        verdict: r.verdict,
        usable: r.usableFromPulumi,
        findings: r.findings.map((f) => ({
            ruleId: f.ruleId,
            statementIndex: f.location.statementIndex,
            conditionKey: f.location.conditionKey,
            kind: f.tokenKind,
            blast: (f.blastRadius ?? []).map((b) => b.class),
        })),
        admittedStatements: r.admitted.map((a) => a.statements),
        audiences: r.admitted.map((a) => a.audiences),
    };
}

describe("canonicalize", () => {
    it("gives documents that differ only in names one shape", () => {
        const a = doc({ StringEquals: { [`${V1}:aud`]: "aws:acme", [`${V1}:sub`]: "pulumi:environments:org:acme:env:payments/live" } });
        const b = doc({ StringEquals: { [`${V1}:aud`]: "aws:globex-2", [`${V1}:sub`]: "pulumi:environments:org:globex-2:env:infra/dev" } });
        const c = doc({ StringEquals: { [`${V1}:aud`]: "aws:globex", [`${V1}:sub`]: "pulumi:environments:org:globex:env:infra/dev" } });
        assert.equal(shapeOf(a, { organizations: ["acme"] }), shapeOf(c, { organizations: ["globex"] }));
        // A `-` is kept (the subject-attribute grammar has no `-` in attribute names), so globex-2 is another shape.
        assert.notEqual(shapeOf(a, { organizations: ["acme"] }), shapeOf(b, { organizations: ["globex-2"] }));
        // The same names in other roles are other shapes: the organization is not the project.
        const d = doc({ StringEquals: { [`${V1}:aud`]: "aws:acme", [`${V1}:sub`]: "pulumi:environments:org:acme:env:acme/live" } });
        assert.notEqual(shapeOf(a, { organizations: ["acme"] }), shapeOf(d, { organizations: ["acme"] }));
    });

    it("refuses a document of too many names as soon as it has read one too many, not after reading them all", () => {
        // Renaming cannot be interrupted by the time budget: 150,000 names took 0.2 s to collect before the refusal.
        const names = Array.from({ length: 5_000 }, (_, i) => `pulumi:environments:org:acme:env:p${i}/*`);
        const statements = parseDocument(doc({ StringLike: { [`${V1}:sub`]: names } }));
        const clause = statements[0]!.clauses[0]!;
        let reads = 0;
        const counted = new Proxy([...clause.values], {
            get(target, prop, receiver) {
                if (typeof prop === "string" && /^\d+$/.test(prop)) reads++;
                return Reflect.get(target, prop, receiver) as unknown;
            },
        });
        (clause as { values: readonly string[] }).values = counted;
        assert.equal(canonicalize(statements, { organizations: ["acme"] }, DEFAULT_ISSUERS), null);
        // One look at every value for the placeholder marker (a regular expression's test), then the names: the limit
        // is 512 (`acme` is one of them), and reading stops at the first past it. Before, every name was collected.
        assert.ok(reads > names.length + 500 && reads <= names.length + 513, `read ${reads} times, ${names.length} values`);
    });

    it("renames the literal head of a glob segment and keeps the rest of the pattern", () => {
        const c = canonicalize(
            parseDocument(doc({ StringLike: { [`${V1}:sub`]: "pulumi:deploy:org:acme:project:svc-7*" } })),
            {},
            DEFAULT_ISSUERS,
        )!;
        const value = c.statements[0]!.clauses[0]!.values[0]!;
        assert.match(value, /^pulumi:deploy:org:zqzqw0x:project:zqzqg0x-\*$/);
        const unmap = (s: string): string => readBack<string>(compileReadBack(s), c.names);
        assert.equal(unmap(value), "pulumi:deploy:org:acme:project:svc-7*");
        // Text glued to a placeholder reads back glued to the name, `-` included or not.
        assert.equal(unmap("zqzqw0x-evil zqzqg0x-abc zqzqw0xq"), "acme-evil svc-7abc acmeq");
    });

    it("reads a compiled value back as a fresh copy: every array and object new, in its order, each name in its place", () => {
        const value = JSON.parse('{"b": 1, "x": {"y": "zqzqw0x"}, "a": ["s", 2, null, {"m": "of zqzqw0x-q"}, ["zqzqg0x-"]], "c": true}') as unknown;
        const compiled = compileReadBack(value);
        const names = { whole: ["acme"], globs: ["svc-7"] };
        const one = readBack<Record<string, unknown>>(compiled, names);
        const text = '{"b":1,"x":{"y":"acme"},"a":["s",2,null,{"m":"of acme-q"},["svc-7"]],"c":true}';
        assert.equal(JSON.stringify(one), text);
        // Editing one copy changes neither the next copy nor the compiled value.
        (one["a"] as unknown[]).push("more");
        ((one["a"] as unknown[])[3] as Record<string, unknown>)["m"] = "edited";
        (one["x"] as Record<string, unknown>)["y"] = "edited";
        one["c"] = "edited";
        const two = readBack<Record<string, unknown>>(compiled, names);
        assert.equal(JSON.stringify(two), text);
        assert.notEqual(two["a"], one["a"]);
        // With other names, the same places read the other names (a `-` after a name without one is the text's).
        assert.equal(
            JSON.stringify(readBack(compiled, { whole: ["beta"], globs: ["p"] })),
            '{"b":1,"x":{"y":"beta"},"a":["s",2,null,{"m":"of beta-q"},["p-"]],"c":true}',
        );
    });

    it("reads one member back alone, as the whole read-back holds it; no member, or no object: nothing", () => {
        const value = JSON.parse('{"verdict": "fail", "admitted": [{"audiences": ["aws:zqzqw0x", "zqzqw0x"], "s": ["zqzqg0x-"]}], "x": 1}') as unknown;
        const compiled = compileReadBack(value);
        const names = { whole: ["acme"], globs: ["svc-7"] };
        const whole = readBack<Record<string, unknown>>(compiled, names);
        for (const key of ["verdict", "admitted", "x"]) assert.deepEqual(readBackMember(compiled, names, key), whole[key], key);
        // A copy of its own, each time.
        const one = readBackMember<unknown[]>(compiled, names, "admitted")!;
        one.push("more");
        assert.deepEqual(readBackMember(compiled, names, "admitted"), whole["admitted"]);
        assert.equal(readBackMember(compiled, names, "absent"), undefined);
        assert.equal(readBackMember(compileReadBack(["zqzqw0x"]), names, "0"), undefined);
    });

    it("reads an array or object the value holds in several places back as one new copy held in the same places", () => {
        // As a statement's findings share its blast radius: read back, they share one copy of it, as the analysis's
        // own findings share theirs; each read-back has its own.
        const radius = [{ class: "every-project", counterexample: { sub: "pulumi:environments:org:zqzqw0x:env:x" } }];
        const entry = radius[0]!;
        const value = { findings: [{ n: 1, blastRadius: radius }, { n: 2, blastRadius: radius }], also: entry, other: [{ class: "every-project" }] };
        const compiled = compileReadBack(value);
        const names = { whole: ["acme"], globs: [] };
        const one = readBack<typeof value>(compiled, names);
        assert.equal(JSON.stringify(one), JSON.stringify(value).replaceAll("zqzqw0x", "acme"));
        assert.equal(one.findings[0]!.blastRadius, one.findings[1]!.blastRadius);
        assert.equal(one.also, one.findings[0]!.blastRadius[0]);
        assert.notEqual(one.findings[0]!.blastRadius, radius);
        // Equal but distinct in the value: distinct in the copy.
        assert.notEqual(one.other[0], one.also);
        const two = readBack<typeof value>(compiled, names);
        assert.notEqual(two.findings[0]!.blastRadius, one.findings[0]!.blastRadius);
        assert.equal(two.findings[0]!.blastRadius, two.findings[1]!.blastRadius);
    });

    const unsafe: Array<[string, object, AnalysisOptions?]> = [
        ["a segment starting with ?", doc({ StringLike: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:?ay/prod" } })],
        ["a segment starting with * and more", doc({ StringLike: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:*-prod" } })],
        ["a policy variable", doc({ StringEquals: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:${aws:username}" } })],
        ["IgnoreCase on sub", doc({ StringEqualsIgnoreCase: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:a/b" } })],
        ["a glob head that starts a whole name", doc({ StringLike: { [`${V1}:aud`]: ["aws:acme", "aws:ac*"] } })],
        ["a glob head that starts a grammar word", doc({ StringLike: { [`${V1}:sub`]: "pulumi:deploy:org:acme:pro*" } })],
        ["a glob head that starts another", doc({ StringLike: { [`${V1}:sub`]: ["pulumi:environments:org:acme:env:p*", "pulumi:environments:org:acme:env:pa*"] } })],
        ["a glob head that starts the placeholders", doc({ StringLike: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:zq*" } })],
        ["the placeholder marker anywhere", doc({ StringEquals: { [`${V1}:aud`]: "aws:acme", "aws:PrincipalTag/x": "ZQZQ" } })],
        ["a literal under StringEquals that a glob head starts", doc({ StringEquals: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:pay*" } }, { StringLike: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:pay*" } })],
        ["a configured organization a glob head starts", doc({ StringLike: { [`${V1}:aud`]: "aws:ac*" } }), { organizations: ["acme"] }],
    ];
    it("leaves the document as written when a configured issuer holds the placeholder marker", () => {
        const d = doc({ StringEquals: { [`${V1}:aud`]: "aws:acme" } });
        assert.equal(canonicalize(parseDocument(d), {}, [...DEFAULT_ISSUERS, "zqzq.example.com/oidc"]), null);
    });

    it("leaves as written a document naming more than 512 names or 4,096 other segments (its checks are pairwise)", () => {
        const auds = (n: number, f: (i: number) => string): Record<string, Record<string, string[]>> => ({
            StringEquals: { [`${V1}:aud`]: Array.from({ length: n }, (_, i) => f(i)) },
        });
        assert.notEqual(shapeOf(doc(auds(512, (i) => `aws:org-${i}`))), null);
        assert.equal(shapeOf(doc(auds(513, (i) => `aws:org-${i}`))), null);
        // Segments that are not names (upper case, and the word `aws`): compared with every name, so bounded too.
        assert.notEqual(shapeOf(doc(auds(4095, (i) => `aws:ORG-${i}`))), null);
        assert.equal(shapeOf(doc(auds(4096, (i) => `aws:ORG-${i}`))), null);
        // And the analysis as written is what the shape cache hands out for it.
        const many = doc(auds(600, (i) => `aws:org-${i}`));
        assert.deepEqual(analyzeTrustPolicy(many, { organizations: ["org-1"] }), analyzeTrustPolicyAsWritten(many, { organizations: ["org-1"] }));
    });

    for (const [label, d, options] of unsafe) {
        it(`leaves the document as written: ${label}`, () => {
            assert.equal(canonicalize(parseDocument(d), options ?? {}, DEFAULT_ISSUERS), null);
        });
    }
});

describe("the shape cache", () => {
    it("hands out copies: editing one result does not change the next", () => {
        const d = doc({ StringEquals: { [`${V1}:aud`]: "aws:acme" } });
        const first = analyzeTrustPolicy(d, { organizations: ["acme"] });
        first.findings[0]!.message = "edited";
        first.findings.length = 0;
        const second = analyzeTrustPolicy(d, { organizations: ["acme"] });
        assert.ok(second.findings.length > 0);
        assert.notEqual(second.findings[0]!.message, "edited");
    });

    it("reads a cached shape back in each document's own names", () => {
        for (const org of ["acme", "globex", "o1", "a.b_c"]) {
            const r = analyzeTrustPolicy(doc({ StringEquals: { [`${V1}:aud`]: `aws:${org}` } }), { organizations: [org] });
            assert.equal(r.verdict, "fail");
            const f = r.findings.find((x) => x.ruleId === "oidc-trust-sub-pinned")!;
            assert.match(f.counterexample!.sub, new RegExp(`^pulumi:[a-z]+:[a-z.]+:${org.replace(/\./g, "\\.")}(:|$)`));
            assert.equal(f.counterexample!.aud.endsWith(org), true);
            assert.doesNotMatch(JSON.stringify(r), /zqzq/);
        }
    });

    it("analyses as written a document whose names a made-up member spells (found by the property below)", () => {
        // In the shape, `a` is no organization, so the shortest bad audience is `aws:a`; read back, `a` is one.
        const d = JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringNotLike: { [`${V1}:aud`]: "aws:evil-org" } } },
                { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: "sts:AssumeRoleWithWebIdentity", Condition: {} },
            ],
        });
        const options = { organizations: ["a", "acme"] };
        const r = analyzeTrustPolicy(d, options);
        assert.deepEqual(r, analyzeTrustPolicyAsWritten(d, options));
        const aud = r.findings.find((f) => f.ruleId === "oidc-trust-aud-pinned" && f.location.statementIndex === 0)!.counterexample!.aud;
        assert.ok(!["aws:a", "a", "aws:acme", "acme"].includes(aud), aud);
        checkCounterexamples(d, options, r);
    });

    it("asks whether made-up members spell a name on their segments, split once per shape: as it asked of the members", () => {
        // The definition: some member has a `:`/`/`-separated segment that is a whole name or starts with a glob head.
        const spelled = (made: readonly string[], names: { whole: string[]; globs: string[] }): boolean =>
            made.some((m) => m.split(/[:/]/).some((seg) => names.whole.includes(seg) || names.globs.some((h) => seg.startsWith(h))));
        assert.deepEqual(madeUpSegments(["aws:a", "pulumi:deploy:org:a:project:p", "x/a"]), ["aws", "a", "pulumi", "deploy", "org", "project", "p", "x"]);
        const piece = fc.constantFrom("a", "ab", "acme", "b", "", "aws", "p-1");
        const member = fc.array(fc.tuple(piece, fc.constantFrom(":", "/")), { maxLength: 5 }).map((xs) => xs.map(([p, sep]) => p + sep).join("") + "a");
        fc.assert(
            fc.property(fc.array(member, { maxLength: 4 }), fc.array(piece, { maxLength: 3 }), fc.array(piece.filter((h) => h !== ""), { maxLength: 2 }), (made, whole, globs) => {
                assert.equal(spellsAName(madeUpSegments(made), { whole, globs }), spelled(made, { whole, globs }));
            }),
            { numRuns: 2000 },
        );
    });

    it("takes the organization a statement names first as the intended one, however the names sort (found by the property below)", () => {
        // No organization configured: of two, the one written second is reported. `acme` is renamed and `env` (a
        // grammar word) is not, and the placeholder sorts after `aws:env` where `acme` sorted before it.
        for (const [auds, reported] of [
            [["acme", "aws:env"], "aws:env"],
            [["aws:env", "acme"], "acme"],
        ] as const) {
            const d = doc({ StringEquals: { [`${V1}:aud`]: [...auds] } });
            const r = analyzeTrustPolicy(d, {});
            assert.deepEqual(r, analyzeTrustPolicyAsWritten(d, {}));
            const finding = r.findings.find((f) => f.ruleId === "oidc-trust-aud-pinned")!;
            assert.equal(finding.counterexample!.aud, reported, finding.message);
            assert.ok(finding.message.includes(`more than one organization (${auds.map(orgOfAnyAudience).join(", ")})`), finding.message);
            checkCounterexamples(d, {}, r);
        }
    });

    it("takes the organization of the first subject a statement spells as the intended one, however the names sort (found by the property below)", () => {
        // No organization configured, and no candidate subject of the witness search fits: the intended organization
        // was the first in sort order (`-` as written, `a0`'s placeholder renamed), and the inline environments of
        // `a0` were in one blast radius and not in the other.
        const d = doc({
            StringNotLike: { [`${V1}:aud`]: ["aws:*"] },
            StringLike: { [`${V1}:sub`]: ["pulumi:*:org:a0:*", "pulumi:environments:org:-:env:x"] },
        });
        const r = analyzeTrustPolicy(d, {});
        assert.deepEqual(summary(r), summary(analyzeTrustPolicyAsWritten(d, {})));
        assert.ok(r.findings.length > 0);
        checkCounterexamples(d, {}, r);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Agreement with the analysis as written, over documents whose names overlap in every way (prefixes of each other,
// of grammar words, of the placeholders).

const NAMES = ["acme", "acme-1", "acme-evil", "ac", "a", "z", "zq", "env", "env-1", "pro", "prod", "prod-2", "payments", "pay", "cur", "x.y", "o_1", "evil-org", "evil", "other", "roll", "x", "mallory"];
const nameArb = fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z0-9-]{1,5}$/));
const AUD = `${V1}:aud`;
const SUB = `${V1}:sub`;

const audArb = fc.tuple(fc.integer({ min: 0, max: 5 }), nameArb).map(([form, o]) => [`aws:${o}`, o, `aws:${o}*`, "aws:*", `${o}*`, `aws:${o}-?`][form]!);
const subArb = fc.tuple(fc.integer({ min: 0, max: 10 }), nameArb, nameArb, nameArb).map(
    ([form, o, p, e]) =>
        [
            `pulumi:environments:org:${o}:env:${p}/${e}`,
            `pulumi:environments:org:${o}:env:${p}/*`,
            `pulumi:environments:org:${o}:env:${p}*`,
            `pulumi:environments:org:${o}:env:*`,
            `pulumi:deploy:org:${o}:project:${p}:stack:${e}:*`,
            `pulumi:deploy:org:${o}:project:${p}*`,
            `pulumi:environments:pulumi.organization.login:${o}:currentEnvironment.name:${p}/${e}`,
            `pulumi:cmk:pulumi.organization.login:${o}`,
            `pulumi:environments:org:${o}:env:${p}/${e}-??`,
            `pulumi:environments:org:${o}:env:${p}`,
            `pulumi:*:org:${o}:*`,
        ][form]!,
);
const valuesArb = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | T[]> => fc.oneof(a, fc.array(a, { minLength: 1, maxLength: 3 }));
const conditionArb = fc
    .record(
        {
            audOp: fc.constantFrom("StringEquals", "StringLike", "StringNotLike", "ForAnyValue:StringLike"),
            aud: valuesArb(audArb),
            subOp: fc.constantFrom("StringEquals", "StringLike", "StringNotEquals", "StringLike"),
            sub: valuesArb(subArb),
        },
        { requiredKeys: ["audOp", "subOp"] },
    )
    .map(({ audOp, aud, subOp, sub }) => {
        const c: Record<string, Record<string, string | string[]>> = {};
        if (aud !== undefined) c[audOp] = { [AUD]: aud };
        if (sub !== undefined) c[subOp] = { ...(c[subOp] ?? {}), [SUB]: sub };
        return c;
    });
const documentArb = fc
    .array(fc.tuple(fc.constantFrom("Allow", "Allow", "Deny"), conditionArb), { minLength: 1, maxLength: 3 })
    .map((sts) => doc(...sts.map(([effect, c]) => (effect === "Deny" ? { deny: c } : c))));
const optionsArb: fc.Arbitrary<AnalysisOptions> = fc.record(
    {
        organizations: fc.array(nameArb, { minLength: 1, maxLength: 2 }),
        subjectScope: fc.constantFrom("project" as const, "environment" as const),
        allowedSubjects: fc.array(subArb, { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: [] },
);

describe("a renamed analysis agrees with the analysis as written", () => {
    it("verdict, rules, places and blast classes exactly; every counterexample admitted and issuable", () => {
        let renamed = 0;
        let identical = 0;
        let runs = 0;
        fc.assert(
            fc.property(documentArb, optionsArb, (d, options) => {
                runs++;
                const asWritten = analyzeTrustPolicyAsWritten(d, options);
                const viaShape = analyzeTrustPolicy(d, options);
                if (canonicalize(parseDocument(d), options, DEFAULT_ISSUERS)) renamed++;
                if (asWritten.verdict === "error" || viaShape.verdict === "error") return;
                assert.deepEqual(summary(viaShape), summary(asWritten), `findings: ${viaShape.findings.map(describeFinding).join("; ")}`);
                if (JSON.stringify(viaShape) === JSON.stringify(asWritten)) identical++;
                assert.doesNotMatch(JSON.stringify(viaShape), /zqzq/);
                checkCounterexamples(d, options, viaShape);
                // The cache hands back the same analysis the second time.
                assert.deepEqual(analyzeTrustPolicy(d, options), viaShape);
            }),
            { numRuns: 200, includeErrorInReport: true },
        );
        // The generator must exercise the renaming, not only the documents it leaves as written.
        assert.ok(renamed >= runs / 4, `only ${renamed} of ${runs} documents were renamed`);
        assert.ok(identical > 0);
    });
});

describe("the fixtures read the same through the shape cache", () => {
    it("every fixture document under six option sets: the same result, byte for byte, as the analysis as written", () => {
        const dir = join(__dirname, "..", "..", "..", "fixtures", "trust-policies");
        const optionSets: AnalysisOptions[] = [
            {},
            { organizations: ["acme"] },
            { organizations: ["acme"], subjectScope: "environment" },
            { organizations: ["acme", "beta-2"] },
            { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:payments/*"] },
        ];
        let documents = 0;
        for (const kind of ["good", "bad"]) {
            for (const f of readdirSync(join(dir, kind)).sort()) {
                if (!f.endsWith(".json") || f.endsWith(".expected.json")) continue;
                const d = JSON.parse(readFileSync(join(dir, kind, f), "utf8")) as unknown;
                const expected = JSON.parse(readFileSync(join(dir, kind, f.replace(/\.json$/, ".expected.json")), "utf8")) as { options?: AnalysisOptions };
                documents++;
                for (const options of [expected.options ?? {}, ...optionSets]) {
                    assert.equal(JSON.stringify(analyzeTrustPolicy(d, options)), JSON.stringify(analyzeTrustPolicyAsWritten(d, options)), `${kind}/${f} with ${JSON.stringify(options)}`);
                }
            }
        }
        assert.ok(documents >= 60, `only ${documents} fixtures`);
    });
});

describe("the words the renaming leaves alone", () => {
    it("include every lowercase word the token grammar and the counterexample candidates spell", () => {
        const source = (f: string): string => readFileSync(join(__dirname, f), "utf8");
        const grammar = source("grammar.ts");
        const analysis = source("trust-policy.ts");
        const body = (src: string, method: string): string => {
            const start = src.indexOf(`private ${method}(`);
            assert.ok(start >= 0, `${method} not found`);
            return src.slice(start, src.indexOf("\n    }\n", start));
        };
        const literals = (text: string): string[] => [...text.matchAll(/"([^"\n]*)"|`([^`\n]*)`/g)].map((m) => m[1] ?? m[2] ?? "");
        const spelled = [
            // The grammar's literals: lit(...) arguments, the prefix constants and lists, the audience prefixes.
            ...[...grammar.matchAll(/lit\(("[^"]*"|`[^`]*`)\)/g)].flatMap((m) => literals(m[1]!)),
            // (not the character classes, `..._CHARS`, which are sets of characters, not words)
            ...[...grammar.matchAll(/^(?:export )?const (?![A-Z_]*_CHARS\b)[A-Z_]+ = (.*)$/gm)].flatMap((m) => literals(m[1]!)),
            ...[...grammar.matchAll(/audPrefixes: \[([^\]]*)\]/g)].flatMap((m) => literals(m[1]!)),
            ...literals(body(analysis, "buildSubCandidates")),
            ...literals(body(analysis, "buildAudCandidates")),
        ];
        const words = new Set(spelled.flatMap((l) => l.split(/[:/]|\$\{[^}]*\}/)).filter((w) => /^[a-z0-9_.-]+$/.test(w)));
        assert.ok(words.has("pulumi") && words.has("evil-org") && words.has("update"), `the scan found too little: ${[...words].join(" ")}`);
        const glued: readonly string[] = GLUED;
        const missing = [...words].filter((w) => !KEYWORDS.includes(w) && !glued.includes(w));
        assert.deepEqual(missing, [], "words the renaming would rename");
    });
});
