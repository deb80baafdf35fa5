/**
 * The bundled fixtures, mutated: `check` over every kind of file it reads (trust policies, stack exports, previews,
 * Terraform, CloudFormation, AWS listings) and `report` over check and verify results, each run in-process through the
 * dispatcher with a seeded generator, so a failure names a case that runs again the same way.
 *
 * Each JSON file is mutated by `testing/mutate.ts` (values replaced, dropped, repeated or retyped, members renamed
 * to names like `__proto__` or to the marker), carries its marker (a bidi override, BEL, an ANSI colour, HTML/XML
 * markup, a Pulumi colour directive, and a new line starting a CI workflow command) in one of its string values, and
 * one case in eight is cut short; the CloudFormation YAML template is mutated line by line. Whatever the mutation
 * does, the run must be safe as `testing/safe-output.ts` says: exit 0, 1 or 2 (never 70), no stack trace, no CI
 * workflow command, no raw control character or markup where the medium would act on it, and reports that parse.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { MARK, generator, mutate, mutateStrings, mutationSeed, type Json } from "oidc-guard-policypack/testing/mutate";
import { runCli } from "../testing/cli.js";
import { assertSafe } from "../testing/safe-output.js";

const ROOT = join(__dirname, "..", "..", "..");
const CASES_PER_FILE = 20;
/** Another seed explores other cases (`OIDC_GUARD_MUTATION_SEED=7 node scripts/run-tests.mjs mutated-inputs`). */
const SEED = mutationSeed();

function jsonFiles(dir: string): string[] {
    return readdirSync(join(ROOT, dir), { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".json") && !e.name.endsWith(".expected.json"))
        .map((e) => join(dir, e.name))
        .sort(); // directory order differs between file systems: a seed's cases must not
}

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-mutated-"));
/** Set when a case fails: its file is kept, where the failure message says, to run it again by hand. */
let keep = false;
after(() => {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
});

/**
 * Writes `CASES_PER_FILE` mutations of each fixture and runs `argv(path, format)` over each, seeded by `seed`;
 * `change` mutates (default: the structure and the values, `mutate`).
 */
async function sweep(
    seed: number,
    fixtures: readonly string[],
    formats: readonly string[],
    argv: (path: string, format: string) => string[],
    change: (value: Json, random: () => number) => Json = mutate,
): Promise<Map<number, number>> {
    const random = generator(seed);
    const codes = new Map<number, number>();
    mkdirSync(join(tmp, String(seed)), { recursive: true });
    let n = 0;
    for (const fixture of fixtures) {
        const original = readFileSync(join(ROOT, fixture), "utf8");
        for (let i = 0; i < CASES_PER_FILE; i++, n++) {
            const mutated = change(JSON.parse(original) as Json, random);
            const path = join(tmp, String(seed), `${n}-${fixture.replace(/[/\\]/g, "_")}`);
            const text = JSON.stringify(mutated, null, random() < 0.5 ? 2 : undefined);
            // One case in eight is cut short: no longer JSON, refused by the reader.
            writeFileSync(path, random() < 0.125 ? text.slice(0, Math.floor(random() * text.length)) : text);
            const format = formats[n % formats.length]!;
            const r = await runCli(argv(path, format), ROOT);
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

    it("check: the CloudFormation YAML template, its lines mutated, in every format", async () => {
        // YAML is mutated as text: lines dropped, repeated, re-indented, or given tags, anchors and aliases, and the
        // marker put in as one line's value (the value-level mutations above keep to JSON).
        const random = generator(SEED + 2);
        const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
        const lines = readFileSync(join(ROOT, "fixtures/cloudformation/pulumi-oidc.yaml"), "utf8").split("\n");
        const inserts = [
            "&a x", "*a", "<<: *a", "!Sub '${AWS::AccountId}'", "!!binary aGVsbG8=", "!GetAtt __proto__.Arn", "!Ref constructor",
            "? complex", "- [a, b, {c: d}]", "\t", "%YAML 1.1", "---", "...", "key: &x [*x]", "!Join ['', [a, !Ref B]]",
            "a: 1e400", "c: ~", "d: .nan", "e: !ImportValue z", "__proto__: {Type: AWS::IAM::Role}", JSON.stringify(MARK),
        ];
        const formats = ["text", "json", "sarif", "junit", "markdown", "html"];
        const dir = join(tmp, `${SEED}-yaml`);
        mkdirSync(dir, { recursive: true });
        const codes = new Map<number, number>();
        for (let n = 0; n < 120; n++) {
            const out = [...lines];
            for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
                const at = Math.floor(random() * out.length);
                const indent = /^\s*/.exec(out[at]!)![0];
                const r = random();
                if (r < 0.25) out.splice(at, 1);
                else if (r < 0.45) out.splice(at, 0, pick(out));
                else if (r < 0.8) out.splice(at, 0, indent + pick(inserts));
                else if (r < 0.9) out[at] = out[at]!.replace(/: .*/, `: ${pick(inserts)}`);
                else out[at] = ` ${out[at]!}`;
            }
            // The marker as the value of one `key: value` line (a YAML double-quoted string reads JSON's escapes).
            const valued = out.flatMap((line, i) => (/^\s*[\w:./-]+: \S/.test(line) ? [i] : []));
            if (valued.length > 0) {
                const at = pick(valued);
                out[at] = out[at]!.replace(/: .*/, `: ${JSON.stringify(MARK)}`);
            }
            const path = join(dir, `${n}-pulumi-oidc.yaml`);
            writeFileSync(path, out.join("\n"));
            const format = formats[n % formats.length]!;
            const r = await runCli(["check", "--format", format, path], ROOT);
            try {
                assertSafe(`seed ${SEED + 2}, case ${n} (fixtures/cloudformation/pulumi-oidc.yaml mutated, --format ${format}): ${path}`, format, r);
            } catch (e) {
                keep = true;
                throw e;
            }
            codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }
        assert.ok((codes.get(1) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
    });

    it("check --config: the policy pack configuration, mutated, over a stack export in every format", async () => {
        // The configuration decides what passes (organizations, subjects, issuers, enforcement levels): a mutated one
        // must be refused with a message naming the setting, or applied, never crash or print its values raw.
        const codes = await sweep(SEED + 5, Array<string>(3).fill("fixtures/policy-pack-config/policy-pack-config.json"), ["text", "json", "sarif", "junit", "markdown", "html"], (path, format) => [
            "check",
            "--format",
            format,
            "--config",
            path,
            join(ROOT, "fixtures/stacks/oidc-roles-prod.stack.json"),
        ]);
        assert.ok((codes.get(2) ?? 0) > 0 && (codes.get(0) ?? 0) + (codes.get(1) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
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

    it("report: check and verify results with only their string values changed, so most reach the output", async () => {
        // Most structural mutations above make a file that is not a result (exit 2); these keep the shape, so the
        // marker and the texts hostile to each medium reach every part of every format.
        const fixtures = jsonFiles("fixtures/reports");
        const codes = await sweep(
            SEED + 7,
            fixtures,
            ["json", "sarif", "junit", "markdown", "html"],
            (path, format) => ["report", "--format", format, "--source-root", join(ROOT, "fixtures/reports/sources"), path],
            mutateStrings,
        );
        const rendered = (codes.get(0) ?? 0) + (codes.get(1) ?? 0);
        assert.ok(rendered * 2 > CASES_PER_FILE * fixtures.length, `only ${rendered} of ${CASES_PER_FILE * fixtures.length} rendered; exit codes: ${JSON.stringify([...codes])}`);
    });
});
