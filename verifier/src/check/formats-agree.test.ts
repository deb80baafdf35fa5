/**
 * One trust policy, every file a user may hold it in: each policy of fixtures/trust-policies, written as the raw
 * document, a JSON string holding it, a Pulumi stack export, a `pulumi preview --json`, a CloudFormation template (JSON
 * and YAML), a Terraform plan and state, and the output of `aws iam get-role`, `list-roles` and
 * `get-account-authorization-details`, gets the same verdict and the same trust findings (rule, statement,
 * counterexample) from `check` in every form; and so does `scan aws` reading the same roles from IAM (moto). Only the
 * policy is in each file (and in the account): no provider, so no input has an audience to cross-check that another
 * lacks.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../../../fixtures/esc/credentials.js";
import { ensureMoto, motoScanEnv, skipOrFail, startMoto, type MotoServer } from "../testing/moto.js";
import { captureIO, withProcessEnv } from "../testing/world.js";
import { run } from "../cli.js";
import type { CheckReport, CheckResult } from "../results.js";

const ROOT = join(__dirname, "..", "..", "..");
const POLICIES = join(ROOT, "fixtures", "trust-policies");
const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-formats-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The fixtures every form can hold. Left out: documents that are not a JSON object (only a raw file can hold them;
 * a template or an export refuses the file itself), and keys repeated in one object (JSON keeps both for the check to
 * report; a YAML mapping with a repeated key does not parse, and the JSON forms below are written by `JSON.stringify`,
 * which keeps one).
 */
function policies(): { name: string; doc: Record<string, unknown> }[] {
    const out: { name: string; doc: Record<string, unknown> }[] = [];
    for (const dir of ["good", "bad"]) {
        for (const f of readdirSync(join(POLICIES, dir)).filter((x) => x.endsWith(".json") && !x.endsWith(".expected.json")).sort()) {
            const doc = JSON.parse(readFileSync(join(POLICIES, dir, f), "utf8")) as unknown;
            if (doc === null || typeof doc !== "object" || Array.isArray(doc)) continue;
            if (["error-duplicate-key-case.json"].includes(f)) continue;
            out.push({ name: `${dir}-${basename(f, ".json")}`, doc: doc as Record<string, unknown> });
        }
    }
    return out;
}

/** A logical id (CloudFormation allows letters and digits only) and a role name for a fixture. */
const logicalId = (name: string): string => name.replace(/[^A-Za-z0-9]/g, "");
const URN = (name: string): string => `urn:pulumi:prod::trust::aws:iam/role:Role::${name}`;

/** Each form: the file's name and text for one policy. */
const FORMS: Record<string, (name: string, doc: Record<string, unknown>) => { file: string; text: string }> = {
    raw: (name, doc) => ({ file: `${name}.json`, text: JSON.stringify(doc, null, 2) }),
    "json-string": (name, doc) => ({ file: `${name}.json`, text: JSON.stringify(JSON.stringify(doc)) }),
    "stack-export": (name, doc) => {
        const policy = JSON.stringify(doc);
        const role = { urn: URN(name), custom: true, id: name, type: "aws:iam/role:Role", inputs: { assumeRolePolicy: policy, name }, outputs: { arn: `arn:aws:iam::123456789012:role/${name}`, assumeRolePolicy: policy, name } };
        return { file: `${name}.stack.json`, text: JSON.stringify({ version: 3, deployment: { manifest: { version: "v3.248.0" }, resources: [role] } }) };
    },
    preview: (name, doc) => {
        const newState = { urn: URN(name), custom: true, type: "aws:iam/role:Role", inputs: { assumeRolePolicy: JSON.stringify(doc), name } };
        return { file: `${name}.preview.json`, text: JSON.stringify({ steps: [{ op: "create", urn: URN(name), newState }], changeSummary: { create: 1 } }) };
    },
    "cloudformation-json": (name, doc) => ({
        file: `${name}.template.json`,
        text: JSON.stringify({ AWSTemplateFormatVersion: "2010-09-09", Resources: { [logicalId(name)]: { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: doc } } } }, null, 2),
    }),
    // JSON is YAML's flow style: the document as written, inside a block-style template.
    "cloudformation-yaml": (name, doc) => ({
        file: `${name}.yaml`,
        text: `AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  ${logicalId(name)}:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: ${JSON.stringify(doc)}\n`,
    }),
    "terraform-plan": (name, doc) => {
        const change = { actions: ["create"], before: null, after: { assume_role_policy: JSON.stringify(doc), name }, after_unknown: { arn: true, id: true } };
        return { file: `${name}.plan.json`, text: JSON.stringify({ format_version: "1.2", terraform_version: "1.9.8", resource_changes: [{ address: `aws_iam_role.${logicalId(name)}`, mode: "managed", type: "aws_iam_role", name: logicalId(name), change }] }) };
    },
    "terraform-state": (name, doc) => {
        const resource = { address: `aws_iam_role.${logicalId(name)}`, mode: "managed", type: "aws_iam_role", name: logicalId(name), values: { assume_role_policy: JSON.stringify(doc), name } };
        return { file: `${name}.state.json`, text: JSON.stringify({ format_version: "1.0", terraform_version: "1.9.8", values: { root_module: { resources: [resource] } } }) };
    },
    "get-role": (name, doc) => ({ file: `${name}.json`, text: JSON.stringify({ Role: { Path: "/", RoleName: name, Arn: `arn:aws:iam::123456789012:role/${name}`, AssumeRolePolicyDocument: doc } }, null, 4) }),
    "list-roles": (name, doc) => ({ file: `${name}.json`, text: JSON.stringify({ Roles: [{ Path: "/", RoleName: name, Arn: `arn:aws:iam::123456789012:role/${name}`, AssumeRolePolicyDocument: doc }] }, null, 4) }),
    "authorization-details": (name, doc) => ({
        file: `${name}.json`,
        text: JSON.stringify({ RoleDetailList: [{ Path: "/", RoleName: name, Arn: `arn:aws:iam::123456789012:role/${name}`, AssumeRolePolicyDocument: doc, RolePolicyList: [] }] }, null, 4),
    }),
};

/** Judgements of `report`'s results, by fixture name (`names` maps a result's target to it). */
function judgedBy(what: string, report: CheckReport, names: ReadonlyMap<string, string>): Map<string, string[]> {
    const judged = new Map<string, string[]>();
    for (const r of report.results) {
        const name = names.get(r.target.resource?.name ?? r.target.file);
        assert.ok(name, `${what}: a result for ${r.target.resource?.name ?? r.target.file}`);
        assert.ok(!judged.has(name), `${what}: two results for ${name}`);
        judged.set(name, judgement(r));
    }
    return judged;
}

/** Where `judged` differs from `want`, fixture by fixture, in words. */
function differences(what: string, want: ReadonlyMap<string, string[]>, judged: ReadonlyMap<string, string[]>): string[] {
    const out: string[] = [];
    for (const [name, w] of want) {
        const got = judged.get(name);
        if (got === undefined) continue;
        if (JSON.stringify(got) !== JSON.stringify(w)) out.push(`${what} ${name}:\n    raw:  ${w.join(" | ")}\n    here: ${(got ?? []).join(" | ")}`);
    }
    return out;
}

async function checkJson(dir: string): Promise<{ code: number; report: CheckReport; err: string }> {
    const io = captureIO({}, { cwd: ROOT });
    const code = await run(["check", dir, "--org", "acme", "--format", "json"], io);
    return { code, report: JSON.parse(io.out.join("")) as CheckReport, err: io.err.join("") };
}

/** What a result decides about its trust policy: the verdict and each trust finding's rule, statement and token. */
function judgement(r: CheckResult): string[] {
    const findings = r.findings
        .filter((f) => f.ruleId.startsWith("oidc-trust-"))
        .map((f) => `${f.ruleId}@${f.location?.statementIndex ?? "-"}${f.advisory ? " (advisory)" : ""} ${f.counterexample ? `${f.counterexample.aud} ${f.counterexample.sub}` : ""}`)
        .sort();
    return [r.verdict, ...findings];
}

/** Long-lived caller keys (AWS's documentation example); moto maps any key it did not issue to its default account. */
const CALLER = { accessKeyId: STATIC_KEY_ID, secretAccessKey: FIXTURE_CREDENTIALS.secretAccessKey };


describe("every form of a trust policy gets the same judgement from check", () => {
    const all = policies();
    let rawJudged: Map<string, string[]> | undefined;
    let moto: MotoServer | undefined;
    let unavailable = "";

    before(async () => {
        const m = ensureMoto();
        if ("problem" in m) unavailable = m.problem;
        else moto = await startMoto(m.server);
    });
    after(() => moto?.stop());

    it("holds enough of the fixtures to mean something", () => {
        assert.ok(all.length >= 60, `${all.length} fixtures`);
        const verdicts = new Set(all.map((p) => p.name.split("-")[0]));
        assert.deepEqual([...verdicts].sort(), ["bad", "good"]);
    });

    it("raw, JSON string, stack export, preview, CloudFormation JSON and YAML, Terraform plan and state, and three AWS CLI outputs", async () => {
        const byForm = new Map<string, Map<string, string[]>>();
        for (const [form, write] of Object.entries(FORMS)) {
            const dir = join(tmp, form);
            mkdirSync(dir);
            const names = new Map<string, string>();
            for (const { name, doc } of all) {
                const { file, text } = write(name, doc);
                writeFileSync(join(dir, file), text);
                names.set(join(dir, file), name);
                names.set(logicalId(name), name);
                names.set(`aws_iam_role.${logicalId(name)}`, name);
                names.set(name, name);
            }
            const { code, report, err } = await checkJson(dir);
            assert.ok(code === 0 || code === 1, `${form}: exit ${code}: ${err}`);
            const judged = judgedBy(form, report, names);
            assert.equal(judged.size, all.length, `${form}: ${judged.size} results for ${all.length} policies`);
            byForm.set(form, judged);
        }
        const raw = byForm.get("raw")!;
        // The fixtures are judged in every way there is: at least one of each verdict.
        assert.deepEqual(new Set([...raw.values()].map((j) => j[0])), new Set(["pass", "fail", "unknown", "error"]));
        assert.deepEqual([...byForm].flatMap(([form, judged]) => differences(form, raw, judged)), []);
        rawJudged = raw;
    });

    it("scan aws: the same roles created in IAM (moto) and read back through ListRoles", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        assert.ok(rawJudged, "the raw forms were judged first");
        const iam = new IAMClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CALLER });
        const names = new Map<string, string>();
        const refused: string[] = [];
        for (const { name, doc } of all) {
            try {
                await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(doc) }));
                names.set(name, name);
            } catch (e) {
                // IAM refuses some malformed documents outright: they cannot be in an account to scan.
                refused.push(`${name}: ${(e as Error).name}`);
            }
        }
        iam.destroy();
        assert.ok(names.size >= all.length - 15, `moto refused ${refused.length}: ${refused.join(", ")}`);
        for (const r of refused) assert.match(r, /^bad-error-/, "only documents the analysis calls malformed may be refused");
        const io = captureIO({}, { cwd: tmp });
        const code = await withProcessEnv(motoScanEnv(moto.endpoint, CALLER, tmp), () => run(["scan", "aws", "--org", "acme", "--format", "json"], io));
        const [out, err] = [io.out.join(""), io.err.join("")];
        assert.ok(code === 0 || code === 1, `scan aws: exit ${code}: ${err}`);
        const judged = judgedBy("scan aws", JSON.parse(out) as CheckReport, names);
        assert.equal(judged.size, names.size, `scan aws: ${judged.size} results for ${names.size} roles`);
        assert.deepEqual(differences("scan aws", rawJudged, judged), []);
    });
});
