/**
 * Text templates (templates.ts): texts that differ only in names read their analysis back from a template learned
 * from an earlier text, and the result is the one the full way gives, whatever the names.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { KEYWORDS, compileReadBack } from "./canonical.js";
import {
    ALWAYS_LITERAL,
    LiteralWords,
    MARK_START,
    admittedOfRead,
    analysisFromTemplate,
    analysisOfRead,
    learnTemplate,
    markedAnalysis,
    mark,
    principalsOfRead,
    scanText,
    templateRead,
    templateReader,
    type LearnedShape,
} from "./templates.js";
import { stackAudienceCheck, type StackProviderInput } from "./stack.js";
import { analyzeTrustPolicy } from "./trust-policy.js";
import type { AnalysisOptions } from "./types.js";
import { UNKNOWN_SENTINELS } from "./constants.js";

const V1 = "api.pulumi.com/oidc";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${V1}`;
const WEB = "sts:AssumeRoleWithWebIdentity";
const LITERAL = new Set<string>([...KEYWORDS, "acme"]);

function text(condition: Record<string, Record<string, string | string[]>>, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "ci", Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: condition, ...extra }],
    });
}

const pinned = (env: string, org = "acme"): string =>
    text({ StringEquals: { [`${V1}:aud`]: `aws:${org}`, [`${V1}:sub`]: `pulumi:environments:org:${org}:env:${env}` } });

/** The text with slot value j replaced by `names[j]`. */
function refill(t: string, at: readonly number[], names: readonly string[]): string {
    let out = "";
    let from = 0;
    for (let i = 0; i < at.length; i += 3) {
        out += t.slice(from, at[i]) + names[at[i + 2]!]!;
        from = at[i]! + at[i + 1]!;
    }
    return out + t.slice(from);
}

describe("scanText", () => {
    it("makes the names of a policy its slots, numbered by value, and leaves grammar words and the options' names literal", () => {
        const s = scanText(pinned("infra/live"), LITERAL)!;
        assert.ok(s.values.includes("infra") && s.values.includes("live"), s.values.join(","));
        for (const word of ["pulumi", "environments", "org", "env", "aws", "acme"]) assert.ok(!s.values.includes(word), word);
        // Equal names are one slot: the key keeps which slots are equal.
        const same = scanText(pinned("a/a"), LITERAL)!;
        const other = scanText(pinned("a/b"), LITERAL)!;
        assert.notEqual(same.key, other.key);
        assert.equal(scanText(pinned("x1/y1"), LITERAL)!.key, other.key);
    });

    it("splits a glob segment at its first wildcard: the literal head is the slot", () => {
        const s = scanText(text({ StringLike: { [`${V1}:sub`]: "pulumi:deploy:org:acme:project:svc-7*" } }), LITERAL)!;
        assert.ok(s.values.includes("svc-7"));
        assert.ok(s.key.includes("*"));
        // A segment that starts with a wildcard has no head.
        assert.ok(!scanText(text({ StringLike: { [`${V1}:sub`]: "pulumi:deploy:org:acme:project:*x" } }), LITERAL)!.values.includes("x"));
    });

    it("finds the runs a regular expression finds: any text, the same key, values and places", () => {
        // The slot's definition as a regular expression (the scan was written as `replace` with it): the reference.
        const reference = (t: string, literal: ReadonlySet<string>): { key: string; values: string[]; at: number[] } => {
            const values: string[] = [];
            const at: number[] = [];
            const key = t.replace(/["/:][a-z0-9_.-]+(?=["/:*?])/g, (match: string, offset: number) => {
                const run = match.slice(1);
                if (literal.has(run) || ALWAYS_LITERAL.has(run)) return match;
                let id = values.indexOf(run);
                if (id < 0) id = values.push(run) - 1;
                at.push(offset + 1, run.length, id);
                return `${match[0]}\u0001${id}`;
            });
            return { key, values, at };
        };
        // Short texts over the characters that matter: openers, ends, name characters and others (upper case, an
        // escape, a space, a letter outside ASCII), with words the scan keeps literal.
        const piece = fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom('"', "/", ":", "*", "?") },
            { weight: 6, arbitrary: fc.constantFrom("a", "b", "z0", "9", "_", ".", "-", "acme", "env", "sub", "oidc") },
            { weight: 1, arbitrary: fc.constantFrom("A", "\\", " ", ",", "é") },
        );
        let slots = 0;
        fc.assert(
            fc.property(fc.array(piece, { minLength: 16, maxLength: 40 }), (pieces) => {
                const t = pieces.join("");
                const got = scanText(t, LITERAL)!;
                const want = reference(t, LITERAL);
                slots += want.values.length;
                assert.deepEqual({ key: got.key, values: got.values, at: [...got.at] }, want, JSON.stringify(t));
            }),
            { numRuns: 2000 },
        );
        assert.ok(slots > 2000, `the texts made only ${slots} slots`);
    });

    it("refuses a text that holds the slot mark, and keeps upper case and other characters literal", () => {
        assert.equal(scanText(`{"a":"b\u0001c"}`, LITERAL), null);
        const s = scanText(text({ StringEquals: { [`${V1}:sub`]: "pulumi:environments:org:acme:env:Infra/li ve" } }), LITERAL)!;
        assert.ok(!s.values.includes("Infra") && !s.values.includes("li ve") && !s.values.includes("ve"), s.values.join(","));
    });
});

describe("LiteralWords", () => {
    it("tells the words where they stand in a text, as a set of them does, few or many of a length", () => {
        // Many words of length 5 (looked up in a set), a few of length 4 (compared in place), and the common words.
        const many = Array.from({ length: 20 }, (_, i) => `w${String(i).padStart(2, "0")}xy`.slice(0, 5));
        const words = new Set([...many, "acme", "beta"]);
        const literal = new LiteralWords(words);
        const all = new Set([...ALWAYS_LITERAL, ...words]);
        fc.assert(
            fc.property(fc.string({ unit: fc.constantFrom("a", "c", "m", "e", "w", "0", "1", "x", "y", "o", "r", "g", "b", "t", "-"), maxLength: 12 }), fc.nat(4), fc.nat(4), (run, before, after) => {
                const text = `${"\"".repeat(before)}${run}${":".repeat(after)}`;
                assert.equal(literal.has(text, before, before + run.length), all.has(run), run);
            }),
            { numRuns: 2000 },
        );
        for (const w of [...all]) assert.ok(literal.has(`:${w}/`, 1, 1 + w.length), w);
    });
});

describe("text templates", () => {
    const options: AnalysisOptions = { organizations: ["acme"] };

    it("are learned on a text's second sighting and read back each later text's own names", () => {
        assert.equal(analysisFromTemplate(pinned("t1/a"), options), undefined);
        analyzeTrustPolicy(pinned("t1/a"), options);
        assert.equal(analysisFromTemplate(pinned("t2/b"), options), undefined, "one sighting teaches nothing");
        analyzeTrustPolicy(pinned("t2/b"), options);
        const read = analysisFromTemplate(pinned("t3/c"), options);
        assert.ok(read !== undefined, "the third text reads its template");
        assert.deepEqual(read, analyzeTrustPolicy(JSON.parse(pinned("t3/c")) as unknown, options));
        assert.match(JSON.stringify(read), /t3\/c/);
        assert.doesNotMatch(JSON.stringify(read), /zqzq|t1|t2/);
    });

    it("leave the full way to a text that changes a fixed part (another account's provider), a `-` or a name into a grammar word", () => {
        const deploy = (p: string, account = "123456789012"): string =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${V1}` },
                        Action: WEB,
                        Condition: { StringEquals: { [`${V1}:aud`]: "acme" }, StringLike: { [`${V1}:sub`]: `pulumi:deploy:org:acme:project:${p}*` } },
                    },
                ],
            });
        analyzeTrustPolicy(deploy("d1"), options);
        analyzeTrustPolicy(deploy("d2"), options);
        assert.ok(analysisFromTemplate(deploy("d3"), options) !== undefined);
        assert.equal(analysisFromTemplate(deploy("d3", "210987654321"), options), undefined);
        assert.equal(analysisFromTemplate(deploy("d-3"), options), undefined);
        assert.equal(analysisFromTemplate(deploy("stack"), options), undefined);
        // A name that a glob head of the text starts: the renaming's own checks refuse it.
        assert.equal(analysisFromTemplate(deploy("pro"), options), undefined);
        for (const p of ["d-3", "stack", "pro", "d3"]) {
            for (const account of ["123456789012", "210987654321"]) {
                const t = deploy(p, account);
                assert.deepEqual(analyzeTrustPolicy(t, options), analyzeTrustPolicy(JSON.parse(t) as unknown, options), `${p} ${account}`);
            }
        }
    });

    it("never read back a text whose slots hold an unknown sentinel or the placeholder marker", () => {
        const sentinel = UNKNOWN_SENTINELS.find((s) => /^[a-z0-9_.-]+$/.test(s));
        assert.ok(sentinel !== undefined, "a sentinel spelled in name characters");
        analyzeTrustPolicy(pinned("u1/a"), options);
        analyzeTrustPolicy(pinned("u2/a"), options);
        assert.ok(analysisFromTemplate(pinned("u3/a"), options) !== undefined);
        assert.equal(analysisFromTemplate(pinned(`${sentinel}/a`), options), undefined);
        assert.equal(analyzeTrustPolicy(pinned(`${sentinel}/a`), options).verdict, "unknown");
        assert.equal(analysisFromTemplate(pinned("zqzqw0x/a"), options), undefined);
    });

    it("leave the full way to a text one of whose names the witness search made up in the shape", () => {
        // In the shape, the organization of the Deny is a placeholder, so the search for a bad audience makes up `a`;
        // read back in a text that names `a`, that witness would be the Deny's own organization.
        const t = (n: string): string =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    { Effect: "Allow", Principal: { Federated: PROVIDER }, Action: WEB, Condition: { StringNotLike: { [`${V1}:aud`]: "aws:evil-org" } } },
                    { Effect: "Deny", Principal: "*", Action: WEB, Condition: { StringEquals: { [`${V1}:sub`]: `pulumi:environments:org:${n}:env:x/y` } } },
                ],
            });
        analyzeTrustPolicy(t("m1"), options);
        analyzeTrustPolicy(t("m2"), options);
        assert.ok(analysisFromTemplate(t("m3"), options) !== undefined);
        assert.ok(JSON.stringify(analyzeTrustPolicy(t("m3"), options)).includes('"aws:a"'), "the shape's witness is made up");
        assert.equal(analysisFromTemplate(t("a"), options), undefined);
        assert.deepEqual(analyzeTrustPolicy(t("a"), options), analyzeTrustPolicy(JSON.parse(t("a")) as unknown, options));
    });

    it("belong to the options they were learned under, even when the caller changes its options object", () => {
        const mine: AnalysisOptions = { organizations: ["acme"] };
        analyzeTrustPolicy(pinned("k1/a"), mine);
        analyzeTrustPolicy(pinned("k2/a"), mine);
        assert.ok(analysisFromTemplate(pinned("k3/a"), mine) !== undefined);
        mine.organizations = ["globex"];
        const t = pinned("k4/a");
        assert.deepEqual(analyzeTrustPolicy(t, mine), analyzeTrustPolicy(JSON.parse(t) as unknown, { organizations: ["globex"] }));
        assert.equal(analyzeTrustPolicy(t, mine).verdict, "fail");
    });

    it("give free parts (another provider's condition values, a Sid) any value, and keep actions and keys fixed", () => {
        const github = (repo: string, action = WEB): string =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: `sid-${repo}`,
                        Effect: "Allow",
                        Principal: { Federated: PROVIDER },
                        Action: action,
                        Condition: {
                            StringEquals: { [`${V1}:aud`]: "aws:acme", "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
                            StringLike: { "token.actions.githubusercontent.com:sub": `repo:acme/${repo}:*` },
                        },
                    },
                ],
            });
        analyzeTrustPolicy(github("g1"), options);
        analyzeTrustPolicy(github("g2"), options);
        assert.ok(analysisFromTemplate(github("g3"), options) !== undefined);
        assert.equal(analysisFromTemplate(github("g3", "sts:tagsession"), options), undefined);
    });
});

describe("learning a template", () => {
    const passing = { verdict: "pass", findings: [], notes: [], admitted: [], usableFromPulumi: true };
    const shape = (name: string): LearnedShape => ({
        key: "the shape",
        names: { whole: [name], globs: [] },
        segments: { whole: new Set(), heads: new Set() },
        compiled: compileReadBack(passing),
        madeUpSegments: [],
    });
    const t = (name: string): string => `{"Sid":"${name}"}`;
    /** Templates start with the second text looked up under a set of options (the first has none to find). */
    const used = (options: AnalysisOptions): AnalysisOptions => {
        analysisFromTemplate("{}", options);
        analysisFromTemplate("{}", options);
        return options;
    };

    it("probes on the second sighting only, and learns nothing past the document's deadline", () => {
        const options = used({ organizations: ["learning-1"] });
        let probes = 0;
        const probe = (text: string) => {
            probes++;
            return { key: "the shape", names: { whole: [(JSON.parse(text) as { Sid: string }).Sid], globs: [] } };
        };
        learnTemplate(t("n1"), options, shape("n1"), probe, Date.now() + 60_000);
        assert.equal(probes, 0);
        learnTemplate(t("n2"), options, shape("n2"), probe, Date.now() - 1);
        assert.equal(probes, 0, "past the deadline nothing is probed");
        assert.equal(analysisFromTemplate(t("n3"), options), undefined);
        learnTemplate(t("n2"), options, shape("n2"), probe, Date.now() + 60_000);
        assert.equal(probes, 1);
        assert.deepEqual(analysisFromTemplate(t("n3"), options), passing);
    });

    it("remembers a text whose names do not agree as one with no template, and probes it no more", () => {
        const options = used({ organizations: ["learning-2"] });
        let probes = 0;
        const probe = () => {
            probes++;
            return { key: "another shape", names: { whole: [], globs: [] } };
        };
        for (const n of ["n1", "n2", "n3", "n4"]) learnTemplate(t(n), options, shape(n), probe, Date.now() + 60_000);
        assert.equal(probes, 2, "the probe of every slot, then the probe of the names alone");
        assert.equal(analysisFromTemplate(t("n5"), options), undefined);
    });

    it("are not looked for, nor learned, under options seen for the first time", () => {
        const options: AnalysisOptions = { organizations: ["learning-3"] };
        let probes = 0;
        const probe = () => {
            probes++;
            return null;
        };
        assert.equal(analysisFromTemplate(t("n1"), options), undefined);
        for (const n of ["n1", "n2", "n3"]) learnTemplate(t(n), options, shape(n), probe, Date.now() + 60_000);
        assert.equal(probes, 0, "no text was looked up twice under these options");
    });

    it("has no template for a text longer than 16 KiB", () => {
        assert.notEqual(scanText(`"${"a".repeat(16 * 1024 - 2)}"`, LITERAL), null);
        assert.equal(scanText(`"${"a".repeat(16 * 1024 - 1)}"`, LITERAL), null);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Agreement with the full way over random documents whose names are replaced by names that collide in every way:
// equal to each other, to grammar words, to the options' names, prefixes of each other, with and without `-`.

const NAMES = ["acme", "acme-1", "acme-evil", "ac", "a", "z", "zq", "zqzq", "env", "env-1", "pro", "prod", "prod-2", "payments", "pay", "x.y", "o_1", "evil-org", "evil", "other", "x", "mallory", "stack", "aws", "sts", "aud", "sub", "oidc", "2012-10-17"];
const nameArb = fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z0-9-]{1,5}$/));
/** What the generator writes in every document: the provider ARN, the action, the keys, the version. */
const GENERATED = new Set(["2012-10-17", "arn", "iam", "123456789012", "oidc-provider", "api.pulumi.com", "oidc", "sts", "aud", "sub", "team"]);
const AUD = `${V1}:aud`;
const SUB = `${V1}:sub`;
const subArb = fc.tuple(fc.integer({ min: 0, max: 7 }), nameArb, nameArb, nameArb).map(
    ([form, o, p, e]) =>
        [
            `pulumi:environments:org:${o}:env:${p}/${e}`,
            `pulumi:environments:org:${o}:env:${p}/*`,
            `pulumi:environments:org:${o}:env:${p}*`,
            `pulumi:deploy:org:${o}:project:${p}:stack:${e}:*`,
            `pulumi:deploy:org:${o}:project:${p}*`,
            `pulumi:environments:pulumi.organization.login:${o}:currentEnvironment.name:${p}/${e}`,
            `pulumi:environments:org:${o}:env:${p}/${e}-??`,
            `pulumi:*:org:${o}:*`,
        ][form]!,
);
const audArb = fc.tuple(fc.integer({ min: 0, max: 4 }), nameArb).map(([form, o]) => [`aws:${o}`, o, `aws:${o}*`, "aws:*", `aws:${o}-?`][form]!);
const valuesArb = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | T[]> => fc.oneof(a, fc.array(a, { minLength: 1, maxLength: 3 }));
const statementArb = fc
    .record({
        effect: fc.constantFrom("Allow", "Allow", "Deny"),
        audOp: fc.constantFrom("StringEquals", "StringLike", "StringNotLike"),
        aud: fc.option(valuesArb(audArb), { nil: undefined }),
        subOp: fc.constantFrom("StringEquals", "StringLike", "StringNotEquals"),
        sub: fc.option(valuesArb(subArb), { nil: undefined }),
        other: fc.option(nameArb, { nil: undefined }),
        sid: fc.option(nameArb, { nil: undefined }),
    })
    .map(({ effect, audOp, aud, subOp, sub, other, sid }) => {
        const c: Record<string, Record<string, string | string[]>> = {};
        if (aud !== undefined) c[audOp] = { [AUD]: aud };
        if (sub !== undefined) c[subOp] = { ...(c[subOp] ?? {}), [SUB]: sub };
        if (other !== undefined) c["StringEquals"] = { ...(c["StringEquals"] ?? {}), "aws:PrincipalTag/team": `team:${other}` };
        return {
            ...(sid !== undefined ? { Sid: sid } : {}),
            Effect: effect,
            Principal: effect === "Deny" ? "*" : { Federated: PROVIDER },
            Action: WEB,
            Condition: c,
        };
    });
const documentArb = fc.array(statementArb, { minLength: 1, maxLength: 3 }).map((sts) => JSON.stringify({ Version: "2012-10-17", Statement: sts }));
const optionsArb: fc.Arbitrary<AnalysisOptions> = fc.record(
    { organizations: fc.array(nameArb, { minLength: 1, maxLength: 2 }), allowedSubjects: fc.array(subArb, { minLength: 1, maxLength: 2 }) },
    { requiredKeys: [] },
);

/** New names for a document's slots: fresh ones of the same kind, or any names, colliding as they may. */
interface Renaming {
    safe: boolean;
    names: ReadonlyArray<string | null>;
}
const renamingArb: fc.Arbitrary<Renaming> = fc.record({ safe: fc.boolean(), names: fc.array(fc.option(nameArb), { minLength: 40, maxLength: 40 }) });

describe("a text read from its template agrees with the full way", () => {
    it("byte for byte, over random documents and random replacements of their names", () => {
        let read = 0;
        let runs = 0;
        fc.assert(
            fc.property(documentArb, optionsArb, fc.array(renamingArb, { minLength: 3, maxLength: 3 }), (d, options, renamings) => {
                runs++;
                const literal = new Set<string>(KEYWORDS);
                for (const v of [...(options.organizations ?? []), ...(options.allowedSubjects ?? [])]) {
                    for (const seg of v.split(/[:/]/)) {
                        literal.add(seg);
                        const w = seg.search(/[*?]/);
                        if (w > 0) literal.add(seg.slice(0, w));
                    }
                }
                const scanned = scanText(d, literal);
                if (scanned === null) return;
                // The document and a renaming of it teach the template (the second sighting learns it); every text is
                // checked: another renaming with fresh names, then three of any names.
                // The generator's own words stay (they are the template's fixed parts); any other slot may take a name.
                const renamed = (r: Renaming, k: number): string[] =>
                    scanned.values.map((v, j) =>
                        GENERATED.has(v) ? v : r.safe ? `s${j}r${k}${v.includes("-") ? "-d" : ""}` : (r.names[j] ?? v),
                    );
                const safe: Renaming = { safe: true, names: [] };
                const texts = [d, refill(d, scanned.at, renamed(safe, 7)), refill(d, scanned.at, renamed(safe, 8)), ...renamings.map((r, k) => refill(d, scanned.at, renamed(r, k)))];
                for (const t of texts) {
                    const templated = analysisFromTemplate(t, options);
                    const full = analyzeTrustPolicy(JSON.parse(t) as unknown, options);
                    if (templated !== undefined) {
                        read++;
                        assert.equal(JSON.stringify(templated), JSON.stringify(full), t);
                    }
                    assert.equal(JSON.stringify(analyzeTrustPolicy(t, options)), JSON.stringify(full), t);
                }
            }),
            { numRuns: 200, includeErrorInReport: true },
        );
        // The texts must reach their templates, not only the full way.
        assert.ok(read >= runs / 2, `only ${read} texts of ${runs} documents were read from a template`);
    });
});

describe("template reads", () => {
    const options: AnalysisOptions = { organizations: ["acme", "beta"] };
    // Two audiences, one of them a name: their order depends on the names.
    const two = (org: string, env: string): string =>
        text({
            StringEquals: { [`${V1}:aud`]: [`aws:acme`, org] },
            StringLike: { [`${V1}:sub`]: `pulumi:environments:org:acme:env:${env}*` },
        });
    const learn = (t: (i: number) => string): void => {
        for (let i = 0; i < 3; i++) analyzeTrustPolicy(t(i), options);
    };

    it("read only the verdict and what is admitted, as the whole analysis has them, audiences sorted alike", () => {
        learn((i) => two(`org${i}`, `infra/e${i}`));
        // `aaa` sorts before `aws:acme`, `zed` after: the same template, two orders.
        for (const org of ["aaa", "zed", "mid-x"]) {
            const read = templateRead(two(org, "infra/e9"), options);
            if (org === "mid-x") {
                // A `-` where the learned names had none: another kind of text, the full way.
                assert.equal(read, undefined);
                continue;
            }
            assert.ok(read !== undefined, org);
            const { analysis, order } = analysisOfRead(read);
            assert.deepEqual(analysis, analyzeTrustPolicy(JSON.parse(two(org, "infra/e9")) as unknown, options));
            const view = admittedOfRead(read);
            assert.equal(view.verdict, analysis.verdict);
            assert.deepEqual(view.admitted, analysis.admitted);
            assert.equal(view.order, order);
        }
        const a = analysisOfRead(templateRead(two("aaa", "infra/e9"), options)!).order;
        const z = analysisOfRead(templateRead(two("zed", "infra/e9"), options)!).order;
        assert.notEqual(a, z, "the two orders are told apart");
    });

    it("are the same through a reader made once for the options", () => {
        learn((i) => two(`org${i}`, `infra/e${i}`));
        const reader = templateReader(options);
        for (const t of [two("aaa", "infra/e7"), two("zed", "infra/e8"), two("mid-x", "infra/e9"), pinned("never/seen")]) {
            assert.deepEqual(reader(t), templateRead(t, options));
        }
    });

    it("mark each name in a marked analysis, in the order the names sorted; the text's names replace the marks exactly", () => {
        learn((i) => two(`org${i}`, `infra/e${i}`));
        for (const org of ["aaa", "zed"]) {
            const t = two(org, "infra/e9");
            const read = templateRead(t, options)!;
            const { analysis, order } = analysisOfRead(read);
            const marked = markedAnalysis(read.template, read.names, order);
            assert.ok(marked !== undefined);
            let json = JSON.stringify(marked);
            assert.ok(json.includes(JSON.stringify(MARK_START).slice(1, -1)), "marks are there");
            read.names.whole.forEach((n, i) => {
                json = json.split(JSON.stringify(mark("w", i, n.includes("-"))).slice(1, -1)).join(n);
            });
            read.names.globs.forEach((n, i) => {
                json = json.split(JSON.stringify(mark("g", i, n.includes("-"))).slice(1, -1)).join(n);
            });
            assert.equal(json, JSON.stringify(analysis), org);
            // Another order than the read's is no order of this template's.
            assert.equal(markedAnalysis(read.template, read.names, "0,1,2;"), undefined);
        }
    });
});

// The stack audience check of a text read from its template reads the template's principals with the text's slot
// values (principalsOfRead), never the text itself: it must find what it finds in the parsed text.

const ACCOUNTS = ["123456789012", "210987654321", "555555555555"];
const arnOf = (account: string, issuer = V1): string => `arn:aws:iam::${account}:oidc-provider/${issuer}`;
/** The stack's providers: the Pulumi issuer in two accounts (one without the role's audiences), and another issuer. */
const STACK_PROVIDERS: StackProviderInput[] = [
    { urn: "urn:p1", arn: arnOf(ACCOUNTS[0]!), url: `https://${V1}`, clientIds: ["aws:acme", "acme"] },
    { urn: "urn:p2", arn: arnOf(ACCOUNTS[1]!), url: `https://${V1}`, clientIds: ["aws:beta"] },
    { urn: "urn:gh", arn: arnOf(ACCOUNTS[0]!, "token.actions.githubusercontent.com"), url: "https://token.actions.githubusercontent.com", clientIds: ["sts.amazonaws.com"] },
];
const principalArb = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(...ACCOUNTS), fc.constantFrom(...ACCOUNTS)).map(([form, a, b]) => {
    switch (form) {
        case 0:
            return { Federated: arnOf(a) };
        case 1:
            return { Federated: [arnOf(a), arnOf(b)] };
        case 2:
            // A key spelled in another case: the check is lenient about it.
            return { federated: arnOf(a) };
        case 3:
            return { Federated: arnOf(a), AWS: `arn:aws:iam::${b}:root` };
        case 4:
            return { Federated: [arnOf(a, "token.actions.githubusercontent.com"), arnOf(b)] };
        case 5:
            // A key JSON.parse makes an own property like any other.
            return { ["__proto__"]: { Federated: arnOf(b) }, Federated: arnOf(a) };
        default:
            return "*";
    }
});
const principalStatementArb = fc
    .record({ principal: principalArb, aud: fc.option(fc.constantFrom("aws:acme", "aws:beta", "acme", "other"), { nil: undefined }), env: nameArb })
    .map(({ principal, aud, env }) => ({
        Effect: "Allow",
        Principal: principal,
        Action: WEB,
        Condition: {
            StringEquals: { ...(aud !== undefined ? { [AUD]: aud } : {}), [SUB]: `pulumi:environments:org:acme:env:${env}` },
        },
    }));

describe("the principals of a template read", () => {
    const options: AnalysisOptions = { organizations: ["acme", "beta"] };
    const check = stackAudienceCheck(STACK_PROVIDERS, options);

    it("give the stack audience check what the parsed text gives it, over random principals, accounts and names", () => {
        let read = 0;
        let runs = 0;
        fc.assert(
            fc.property(fc.array(principalStatementArb, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(fc.constantFrom(...ACCOUNTS), { minLength: 4, maxLength: 4 }), (statements, single, accounts) => {
                runs++;
                const doc = (k: number): string => {
                    // Each text of the template its own names, and its own accounts (a slot like any other).
                    const named = JSON.stringify(statements).replace(/env:([a-z0-9-]+)/g, `env:$1x${k}`);
                    const renamed = named.replace(/\d{12}/g, (a) => (k < 2 ? a : accounts[(Number(a[0]) + k) % accounts.length]!));
                    const list = JSON.parse(renamed) as unknown[];
                    return JSON.stringify({ Version: "2012-10-17", Statement: single && list.length === 1 ? list[0] : list });
                };
                for (let k = 0; k < 6; k++) {
                    const t = doc(k);
                    const full = analyzeTrustPolicy(t, options);
                    const expected = check({ urn: "urn:r", trustPolicy: JSON.parse(t) as unknown, analysis: full });
                    const r = templateRead(t, options);
                    if (r === undefined) continue;
                    const principals = principalsOfRead(r);
                    assert.ok(principals !== undefined, t);
                    read++;
                    const got = check({ urn: "urn:r", trustPolicy: principals, analysis: admittedOfRead(r) });
                    assert.deepEqual(got, expected, t);
                }
            }),
            { numRuns: 150, includeErrorInReport: true },
        );
        // Not vacuous: of the 6 texts of each document, about 1.2 are read from a template (153 to 231 texts in 30
        // runs of 150 documents, 131 once in 35 runs: the bound was `runs`, which a run missed now and then).
        assert.ok(read >= runs / 2, `only ${read} texts of ${runs} documents were read from a template`);
    });

    it("name each statement in its place with only its Principal, the same object for the same values", () => {
        const t = (env: string, account: string): string =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    { Effect: "Deny", Principal: "*", Action: "sts:TagSession" },
                    { Effect: "Allow", Principal: { Federated: arnOf(account) }, Action: WEB, Condition: { StringEquals: { [AUD]: "aws:acme", [SUB]: `pulumi:environments:org:acme:env:${env}` } } },
                ],
            });
        for (let i = 0; i < 3; i++) analyzeTrustPolicy(t(`learn/e${i}`, ACCOUNTS[0]!), options);
        const a = templateRead(t("infra/a", ACCOUNTS[0]!), options);
        const b = templateRead(t("infra/b", ACCOUNTS[0]!), options);
        assert.ok(a !== undefined && b !== undefined);
        const pa = principalsOfRead(a);
        const pb = principalsOfRead(b);
        assert.ok(pa !== undefined && pb !== undefined);
        assert.deepEqual(pa, { Statement: [{ Principal: "*" }, { Principal: { Federated: arnOf(ACCOUNTS[0]!) } }] });
        assert.equal(pb.Statement, pa.Statement, "made once for the same values");
    });

    it("are not read from a template whose text spells the escape that marks a slot's value", () => {
        const t = (env: string): string => text({ StringEquals: { [AUD]: "aws:acme", [SUB]: `pulumi:environments:org:acme:env:${env}` } }, { Sid: "a\u0002b" });
        for (let i = 0; i < 3; i++) analyzeTrustPolicy(t(`learn/f${i}`), options);
        const r = templateRead(t("infra/f9"), options);
        assert.ok(r !== undefined, "the text is read from its template");
        assert.equal(principalsOfRead(r), undefined);
    });
});
