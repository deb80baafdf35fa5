/**
 * The bundled fixtures, mutated: `check` over every kind of file it reads (trust policies, stack exports, previews,
 * Terraform, CloudFormation, AWS listings) and `report` over check and verify results, each run in-process through the
 * dispatcher with a seeded generator, so a failure names a case that runs again the same way.
 *
 * Each mutated file carries a marker string (a bidi override, BEL, an ANSI colour, HTML/XML markup, and a new line
 * starting a CI workflow command) in one of its
 * string values, and one case in eight is cut short. Whatever the mutation does, the run must:
 * - end with exit 0, 1 or 2 (never 70, the internal error), and print no stack trace;
 * - start no line of stdout or stderr with `::` (a CI runner's workflow command);
 * - print none of the marker's control characters raw, in any format but JSON and SARIF (which escape them as JSON
 *   does) nor on stderr;
 * - never print the marker's markup raw into HTML or JUnit XML, nor into Markdown outside code;
 * - write JSON and SARIF that parse, and JUnit XML that is well formed.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { XMLValidator } from "fast-xml-parser";
import { run } from "../cli.js";
import { textOf, type OutputChunk } from "../chunks.js";

const ROOT = join(__dirname, "..", "..", "..");
const MARK = "\u202e\u0007\u001b[31m<b>&amp;</b>\n  ::error::x";
/** The marker's control characters: none may reach a terminal, a log or a rendered report raw. */
const CONTROLS = ["\u0007", "\u001b", "\u202e"];
const hasControl = (s: string): boolean => CONTROLS.some((c) => s.includes(c));
const CASES_PER_FILE = 20;
/** Another seed explores other cases (`OIDC_GUARD_MUTATION_SEED=7 node scripts/run-tests.mjs mutated-inputs`). */
const SEED = Number(process.env["OIDC_GUARD_MUTATION_SEED"] ?? 20261205);
if (!Number.isSafeInteger(SEED)) throw new Error(`OIDC_GUARD_MUTATION_SEED must be a whole number, got '${process.env["OIDC_GUARD_MUTATION_SEED"]}'`);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** mulberry32: small, seeded, the same sequence on every machine. */
function generator(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const REPLACEMENTS: readonly Json[] = [
    null, 0, -1, 1e308, 3.5, true, "", "*", "?", "${aws:username}", "a".repeat(3000), [], {}, [null], { "": 1 },
    "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc", "api.pulumi.com/oidc:sub", "pulumi:environments:org:*",
    "StringLike", "Deny", "sts:AssumeRoleWithWebIdentity", { StringEquals: { "api.pulumi.com/oidc:aud": null } },
    "\ud800", "__proto__", { constructor: 1 }, ["aws:acme", "*"], "\n\r\t", "]]>", "|x|", "```", "::error::x", "\n  ::add-mask::y",
];

interface Slot {
    parent: Json[] | { [key: string]: Json };
    key: string | number;
}

/** Every place in `value` a mutation can write to, parents before children. */
function slots(value: Json, out: Slot[] = []): Slot[] {
    if (Array.isArray(value)) {
        value.forEach((v, i) => {
            out.push({ parent: value, key: i });
            slots(v, out);
        });
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            out.push({ parent: value, key: k });
            slots(v, out);
        }
    }
    return out;
}

const read = (s: Slot): Json => (s.parent as Record<string | number, Json>)[s.key]!;
const write = (s: Slot, v: Json): void => {
    (s.parent as Record<string | number, Json>)[s.key] = v;
};

/**
 * Up to three mutations of `value` (in place; none in a quarter of the cases, whose shape stays valid), and the
 * marker in one string value (or a new member).
 */
function mutate(value: Json, random: () => number): Json {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const count = random() < 0.25 ? 0 : 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
        const all = slots(value);
        if (all.length === 0) break;
        const slot = pick(all);
        const current = read(slot);
        const r = random();
        if (typeof current === "string" && current.trimStart().startsWith("{") && r < 0.5) {
            // A trust policy held as a JSON string (stack exports, AWS listings): mutate the document inside.
            try {
                write(slot, JSON.stringify(mutate(JSON.parse(current) as Json, random)));
                continue;
            } catch {
                // Not JSON after all: mutated below as a string.
            }
        }
        if (r < 0.55) write(slot, structuredClone(pick(REPLACEMENTS)));
        else if (r < 0.7) {
            if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
            else delete slot.parent[slot.key as string];
        } else if (r < 0.8) write(slot, structuredClone(read(pick(all))));
        else if (r < 0.9) write(slot, Array.isArray(current) ? [...current, ...current.slice(0, 3)] : [current, current]);
        else write(slot, typeof current === "string" ? current.toUpperCase() : JSON.stringify(current));
    }
    const strings = slots(value).filter((s) => typeof read(s) === "string");
    if (strings.length > 0) {
        const s = pick(strings);
        write(s, random() < 0.5 ? MARK : `${read(s) as string}${MARK}`);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        value["Sid"] = MARK;
    }
    return value;
}

function jsonFiles(dir: string): string[] {
    return readdirSync(join(ROOT, dir), { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".json") && !e.name.endsWith(".expected.json"))
        .map((e) => join(dir, e.name))
        .sort(); // directory order differs between file systems: a seed's cases must not
}

/**
 * Markdown with its code left out: fenced code blocks, and code spans (a run of backticks up to the next run of the
 * same length, within a line, as the reports write them). In code, markup is shown as written, not rendered.
 */
function outsideCode(markdown: string): string {
    const unfenced = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
    return unfenced
        .split("\n")
        .map((line) => line.replace(/(?<!`)(`+)(?!`)([\s\S]*?)(?<!`)\1(?!`)/g, ""))
        .join("\n");
}

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await run(argv, {
        stdout: { write: (c: OutputChunk) => (out += textOf(c)), isTTY: false },
        stderr: { write: (c: string) => (err += c), isTTY: false },
        env: {},
        cwd: ROOT,
    });
    return { code, out, err };
}

function assertSafe(what: string, format: string, r: { code: number; out: string; err: string }): void {
    assert.ok([0, 1, 2].includes(r.code), `${what}: exit ${r.code}\n${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at \S.*[(:]\d/, `${what}: a stack trace on stderr`);
    assert.ok(!hasControl(r.err), `${what}: a control character on stderr`);
    // A CI runner reads `::command::` at the start of any line of the log (after spaces), in every format.
    for (const [stream, text] of [["stdout", r.out], ["stderr", r.err]] as const) {
        assert.doesNotMatch(text, /^\s*::/m, `${what}: a line of ${stream} starts a CI workflow command`);
    }
    if (r.out === "") return;
    switch (format) {
        case "json":
        case "sarif":
            assert.doesNotThrow(() => JSON.parse(r.out), `${what}: the ${format} report does not parse`);
            return;
        case "junit":
            assert.equal(XMLValidator.validate(r.out), true, `${what}: the JUnit XML is not well formed`);
            assert.ok(!r.out.includes("<b>"), `${what}: input markup raw in JUnit XML`);
            break;
        case "html":
            assert.ok(!r.out.includes("<b>"), `${what}: input markup raw in HTML`);
            break;
        case "markdown":
            assert.ok(!outsideCode(r.out).includes("<b>"), `${what}: input markup raw in Markdown`);
            break;
    }
    assert.ok(!hasControl(r.out), `${what}: a control character in the ${format} output`);
}

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-mutated-"));
/** Set when a case fails: its file is kept, where the failure message says, to run it again by hand. */
let keep = false;
after(() => {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
});

/** Writes `CASES_PER_FILE` mutations of each fixture and runs `argv(path, format)` over each, seeded by `seed`. */
async function sweep(seed: number, fixtures: readonly string[], formats: readonly string[], argv: (path: string, format: string) => string[]): Promise<Map<number, number>> {
    const random = generator(seed);
    const codes = new Map<number, number>();
    mkdirSync(join(tmp, String(seed)), { recursive: true });
    let n = 0;
    for (const fixture of fixtures) {
        const original = readFileSync(join(ROOT, fixture), "utf8");
        for (let i = 0; i < CASES_PER_FILE; i++, n++) {
            const mutated = mutate(JSON.parse(original) as Json, random);
            const path = join(tmp, String(seed), `${n}-${fixture.replace(/[/\\]/g, "_")}`);
            const text = JSON.stringify(mutated, null, random() < 0.5 ? 2 : undefined);
            // One case in eight is cut short: no longer JSON, refused by the reader.
            writeFileSync(path, random() < 0.125 ? text.slice(0, Math.floor(random() * text.length)) : text);
            const format = formats[n % formats.length]!;
            const r = await runCli(argv(path, format));
            try {
                assertSafe(`seed ${seed}, case ${n} (${relative(ROOT, fixture)} mutated, --format ${format}): ${path}`, format, r);
            } catch (e) {
                keep = true;
                throw e;
            }
            codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }
    }
    return codes;
}

describe("mutated fixtures, in-process", () => {
    it("check: every kind of input file, mutated, in every format", async () => {
        const fixtures = [
            ...["fixtures/stacks", "fixtures/terraform", "fixtures/preview", "fixtures/aws"].flatMap(jsonFiles),
            "fixtures/cdk.out/PulumiOidcStack.template.json",
            ...jsonFiles("fixtures/trust-policies/good").slice(0, 8),
            ...jsonFiles("fixtures/trust-policies/bad").slice(0, 8),
        ];
        assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures found`);
        const codes = await sweep(SEED, fixtures, ["text", "json", "sarif", "junit", "markdown", "html"], (path, format) => [
            "check",
            "--format",
            format,
            ...(format === "json" ? ["--org", "acme"] : []),
            path,
        ]);
        // The cases must reach the analysis and the reports, not only the readers' refusals.
        assert.ok((codes.get(1) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
    });

    it("report: check and verify results, mutated, in every format", async () => {
        const fixtures = jsonFiles("fixtures/reports");
        assert.ok(fixtures.length >= 6, `only ${fixtures.length} result fixtures found`);
        const codes = await sweep(SEED + 1, fixtures, ["json", "sarif", "junit", "markdown", "html"], (path, format) => [
            "report",
            "--format",
            format,
            "--source-root",
            join(ROOT, "fixtures/reports/sources"),
            path,
        ]);
        // Some results must be read and rendered (exit 0 or 1), not all refused as not results (2).
        assert.ok((codes.get(0) ?? 0) + (codes.get(1) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
    });
});
