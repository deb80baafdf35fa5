/**
 * Role results written from their templates (prerender.ts): the report's bytes are the bytes `JSON.stringify` gives
 * the full results, whatever the names, and a templated result is a full result to anything that reads it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { joinChunks } from "../chunks.js";
import type { CheckResult } from "../results.js";
import { runCheck, streamCheck } from "./analyze.js";
import type { InputFile } from "./files.js";
import { TemplatedResult, templatedItem } from "./prerender.js";
import { RESULTS_DEPTH, renderJsonChunks, renderJsonStream } from "./render.js";
import { OTHER_PROVIDER_ARN, PROVIDER_ARN, exportUrn, pulumiProviderResource } from "../testing/stack-export.js";

const OPTIONS = { organizations: ["acme"] };
const TOOL = { name: "oidc-guard", version: "test" };

function statement(condition: Record<string, unknown>, federated = PROVIDER_ARN): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Federated: federated }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
    });
}

/**
 * The trust policy of role `i`, of a few kinds that each repeat (so that their templates are learned): pinned,
 * two audiences in either order (one the provider does not list: the audience check's finding), a subject wildcard,
 * a provider outside the stack (an advisory note), names with and without `-`.
 */
function trustPolicy(i: number, env: string): string {
    const sub = `pulumi:environments:org:acme:env:${env}`;
    switch (i % 6) {
        case 0:
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": sub } });
        case 1:
            // `a…` sorts before `aws:acme`, `z…` after: one template, two orders of its audience list.
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": ["aws:acme", `${i % 12 === 1 ? "a" : "z"}x${i}`] } });
        case 2:
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": "acme" }, StringLike: { "api.pulumi.com/oidc:sub": `pulumi:deploy:org:acme:project:p${i}:*` } });
        case 3:
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": `aws:other${i}`, "api.pulumi.com/oidc:sub": sub } });
        case 4:
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": sub } }, OTHER_PROVIDER_ARN);
        default:
            return statement({ StringLike: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": `${sub}-*` } });
    }
}

function stackExport(names: readonly string[], envs: readonly string[]): string {
    const resources: unknown[] = [pulumiProviderResource()];
    names.forEach((name, i) => {
        resources.push({
            urn: exportUrn("aws:iam/role:Role", name),
            type: "aws:iam/role:Role",
            inputs: { name },
            outputs: { assumeRolePolicy: trustPolicy(i, envs[i % envs.length]!), name },
        });
    });
    return JSON.stringify({ version: 3, deployment: { resources } });
}

/** The JSON report of full results, as `check` writes it when nothing is written from a template. */
function full(files: InputFile[]): string {
    const run = runCheck(files, OPTIONS, { keepSources: false });
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of run.results) summary[r.verdict]++;
    return joinChunks(renderJsonChunks({ tool: TOOL, results: run.results, summary }));
}

/** The JSON report written while checking, roles of a kind seen before written from their template. */
function templated(files: InputFile[]): { json: string; written: number; results: CheckResult[] } {
    const { results } = streamCheck(files, OPTIONS, { keepSources: false, templated: { depth: RESULTS_DEPTH } });
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    const seen: CheckResult[] = [];
    let written = 0;
    function* items(): Generator<CheckResult> {
        for (const r of results) {
            summary[r.verdict]++;
            if (templatedItem(r, RESULTS_DEPTH) !== undefined) written++;
            seen.push(r);
            yield r;
        }
    }
    return { json: joinChunks(renderJsonStream(TOOL, items(), () => summary)), written, results: seen };
}

const file = (text: string): InputFile[] => [{ path: "/x/stack.json", shown: "stack.json", explicit: true, text }];

describe("role results written from their templates", () => {
    it("are the bytes of the full results, with names that JSON and the output escape, and most roles are written so", () => {
        const hostile = ['q"uote', "back\\slash", "c1\u009b31m", "bidi\u202e", "line\u2028sep", "del\u007f", "é-ü", "astral-\u{1f600}", "lone\ud800", "tab\there"];
        const names = Array.from({ length: 240 }, (_, i) => (i % 7 === 3 ? `role-${i}-${hostile[i % hostile.length]!}` : `role-${i}`));
        const envs = Array.from({ length: 240 }, (_, i) => (i % 2 === 0 ? `infra/env${i}` : `infra/env-${i}`));
        const files = file(stackExport(names, envs));
        const made = templated(files);
        assert.equal(made.json, full(files));
        // Fails if the fast path is never taken: most roles repeat a kind learned before them (a sixth have an advisory
        // note, and the first of each kind is made in full).
        assert.ok(made.written > 120, `written from templates: ${made.written} of 240`);
        // Roles with an advisory note (a provider outside the stack) are full results.
        for (const r of made.results) {
            if (r instanceof TemplatedResult) assert.ok(r.templated);
        }
    });

    it("are the bytes of the full results for any role and environment names", () => {
        const name = fc.string({ unit: "binary", minLength: 1, maxLength: 12 });
        const env = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,8}\/[a-z0-9][a-z0-9_.-]{0,8}$/);
        fc.assert(
            fc.property(fc.array(name, { minLength: 20, maxLength: 40 }), fc.array(env, { minLength: 1, maxLength: 5 }), (names, envs) => {
                const files = file(stackExport(names, envs));
                assert.equal(templated(files).json, full(files));
            }),
            { numRuns: 40 },
        );
    });

    it("are full results to anything that reads more than their verdict, and written from then on as such", () => {
        const names = Array.from({ length: 60 }, (_, i) => `role-${i}`);
        const files = file(stackExport(names, ["infra/live"]));
        const reference = runCheck(files, OPTIONS, { keepSources: false }).results;
        const { results } = streamCheck(files, OPTIONS, { keepSources: false, templated: { depth: RESULTS_DEPTH } });
        const all = [...results];
        const t = all.filter((r): r is TemplatedResult => r instanceof TemplatedResult);
        assert.ok(t.length > 20, `${t.length} templated`);
        const i = all.indexOf(t[0]!);
        // Its verdict alone is read without making it.
        assert.equal(t[0]!.verdict, reference[i]!.verdict);
        assert.ok(t[0]!.templated);
        // Stringified, or any other field read: the full result.
        assert.equal(JSON.stringify(t[0]), JSON.stringify(reference[i]));
        assert.equal(t[0]!.templated, false);
        assert.equal(templatedItem(t[0], RESULTS_DEPTH), undefined);
        assert.deepEqual(t[1]!.findings, reference[all.indexOf(t[1]!)]!.findings);
        // A change is the full result's, and written with it.
        const changed = t[2]!;
        changed.notes = ["added later"];
        changed.verdict = "error";
        assert.match(JSON.stringify(changed), /"verdict":"error".*"notes":\["added later"\]/s);
        // Written only into an array as deep as its template's pieces are cut for.
        assert.equal(templatedItem(t[3], RESULTS_DEPTH + 1), undefined);
        assert.ok(templatedItem(t[3], RESULTS_DEPTH) !== undefined);
    });
});
