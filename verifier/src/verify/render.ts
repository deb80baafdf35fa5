/**
 * Rendering of verify results: `text` (for people), `json` (the stable, schema-described shape that
 * `oidc-guard report` reads: verifier/schemas/verify-result.schema.json) and `junit` (one testcase per check).
 * Results carry no secrets by construction; the CLI additionally scrubs everything it writes.
 */
import { escapeJsonOutput, escapeTextDeep, escapeXml, guardCiLog, xmlLines } from "../escape.js";
import type { VerifyCheck } from "../results.js";
import { COULD_NOT_VERIFY } from "./errors.js";
import type { BatchVerificationResult, VerificationResult } from "./types.js";

export type OutputFormat = "text" | "json" | "junit";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "json", "junit"];


function isErrorCheck(c: VerifyCheck): boolean {
    return c.status === "fail" && c.detail.startsWith(COULD_NOT_VERIFY);
}

function seconds(ms: number | undefined): string {
    return ms === undefined ? "0" : (ms / 1000).toFixed(3);
}

const LABEL: Record<VerifyCheck["status"], string> = { pass: "pass", fail: "FAIL", skip: "skip" };

function checkLines(checks: VerifyCheck[], indent: string): string[] {
    const width = Math.min(40, checks.reduce((m, c) => Math.max(m, c.id.length), 10));
    return checks.map((c) => `${indent}${(isErrorCheck(c) ? "ERROR" : LABEL[c.status]).padEnd(5)}  ${c.id.padEnd(width)}  ${c.detail}`);
}

/** Text for one environment. */
export function renderText(r: VerificationResult): string {
    const lines: string[] = [];
    const verdict = r.verdict === "verified" ? "VERIFIED" : r.verdict === "failed" ? "FAILED" : "COULD NOT VERIFY";
    lines.push(`${r.environment}: ${verdict}${r.durationMs !== undefined ? ` (${(r.durationMs / 1000).toFixed(1)} s)` : ""}`);
    for (const l of checkLines(r.checks, "  ")) lines.push(l);
    if (r.diagnostics && r.diagnostics.length > 0) {
        lines.push("diagnostics:");
        for (const d of r.diagnostics) {
            lines.push(`  ${d.message}`);
            if (d.hint) lines.push(`    hint: ${d.hint}`);
        }
    }
    if (r.callerIdentity) lines.push(`caller identity: ${r.callerIdentity.arn} (account ${r.callerIdentity.account})`);
    if (r.expectedRole) lines.push(`expected role:   ${r.expectedRole.arn} (from ${r.expectedRole.source})`);
    if (r.accessKeyId) lines.push(`access key id:   ${r.accessKeyId}`);
    if (r.sts === "skipped" && r.checks.some((c) => c.detail.startsWith("--no-sts"))) lines.push("sts: skipped (--no-sts)");
    return `${lines.join("\n")}\n`;
}

/** Text for a batch: one summary table, then the failing checks of each environment that did not verify. */
export function renderBatchText(b: BatchVerificationResult): string {
    const lines: string[] = [];
    const envWidth = Math.min(60, b.results.reduce((m, r) => Math.max(m, r.environment.length), 11));
    if (b.results.length > 0) lines.push(`${"ENVIRONMENT".padEnd(envWidth)}  ${"VERDICT".padEnd(8)}  CALLER / FIRST PROBLEM`);
    for (const r of b.results) {
        const firstFail = r.checks.find((c) => c.status === "fail");
        const what = r.verdict === "verified" ? (r.callerIdentity?.arn ?? "(sts skipped)") : firstFail ? `${firstFail.id}: ${firstFail.detail}` : (r.error?.message ?? "");
        lines.push(`${r.environment.padEnd(envWidth)}  ${r.verdict.padEnd(8)}  ${what}`);
    }
    if (b.checks.length > 0) {
        if (lines.length > 0) lines.push("");
        for (const l of checkLines(b.checks, "")) lines.push(l);
    }
    const notVerified = b.results.filter((r) => r.verdict !== "verified");
    for (const r of notVerified) {
        lines.push("");
        lines.push(`${r.environment}:`);
        for (const l of checkLines(r.checks.filter((c) => c.status === "fail"), "  ")) lines.push(l);
        for (const d of r.diagnostics ?? []) {
            lines.push(`  ${d.message}`);
            if (d.hint) lines.push(`    hint: ${d.hint}`);
        }
    }
    lines.push("");
    const s = b.summary;
    const skipped = b.skipped ? `; ${b.skipped.length} skipped (no aws-login in their definition)` : "";
    lines.push(`${b.results.length} environment${b.results.length === 1 ? "" : "s"}: ${s.verified} verified, ${s.failed} failed, ${s.error} could not be verified${skipped}`);
    lines.push(`verdict: ${b.verdict}`);
    return `${lines.join("\n")}\n`;
}

/** The JSON document (`--format json`), pretty-printed. */
export function renderJson(r: VerificationResult | BatchVerificationResult): string {
    return `${JSON.stringify(r, null, 2)}\n`;
}

/** XML 1.0 text or attribute: escapes markup, shows control characters (line breaks too) and drops what XML cannot carry. */
function xml(s: string): string {
    return escapeXml(s);
}


function suite(
    name: string,
    checks: VerifyCheck[],
    durationMs: number | undefined,
    props: [string, string][],
    diagnostics: { message: string; hint?: string }[] = [],
): { xml: string; tests: number; failures: number; errors: number; skipped: number } {
    let failures = 0;
    let errors = 0;
    let skipped = 0;
    const cases = checks.map((c) => {
        const head = `    <testcase classname="${xml(`oidc-guard.verify.${name}`)}" name="${xml(c.id)}" time="0">`;
        if (c.status === "skip") {
            skipped++;
            return `${head}\n      <skipped message="${xml(c.detail)}"/>\n    </testcase>`;
        }
        if (c.status === "fail") {
            const tag = isErrorCheck(c) ? "error" : "failure";
            if (tag === "error") errors++;
            else failures++;
            const lines = [c.detail];
            if (c.id === "environment-opens") {
                for (const d of diagnostics) {
                    lines.push(d.message);
                    if (d.hint) lines.push(`hint: ${d.hint}`);
                }
            }
            return `${head}\n      <${tag} message="${xml(c.detail)}" type="${tag === "error" ? "could-not-verify" : "verification-failed"}">${xmlLines(lines)}</${tag}>\n    </testcase>`;
        }
        return `${head}\n      <system-out>${xml(c.detail)}</system-out>\n    </testcase>`;
    });
    const properties = props.length
        ? `    <properties>\n${props.map(([k, v]) => `      <property name="${xml(k)}" value="${xml(v)}"/>`).join("\n")}\n    </properties>\n`
        : "";
    const body = `  <testsuite name="${xml(name)}" tests="${checks.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(durationMs)}">\n${properties}${cases.join("\n")}${cases.length ? "\n" : ""}  </testsuite>`;
    return { xml: body, tests: checks.length, failures, errors, skipped };
}

function resultProps(r: VerificationResult): [string, string][] {
    const p: [string, string][] = [["verdict", r.verdict]];
    if (r.callerIdentity) p.push(["callerIdentity.arn", r.callerIdentity.arn]);
    if (r.expectedRole) p.push(["expectedRole", r.expectedRole.arn]);
    if (r.accessKeyId) p.push(["accessKeyId", r.accessKeyId]);
    return p;
}

/** JUnit XML: one testsuite per environment (plus one for batch-wide checks), one testcase per check. */
export function renderJunit(r: VerificationResult | BatchVerificationResult): string {
    const suites: ReturnType<typeof suite>[] = [];
    if ("results" in r) {
        for (const e of r.results) suites.push(suite(e.environment, e.checks, e.durationMs, resultProps(e), e.diagnostics));
        if (r.checks.length > 0) suites.push(suite("batch", r.checks, undefined, [["verdict", r.verdict]]));
    } else {
        suites.push(suite(r.environment, r.checks, r.durationMs, resultProps(r), r.diagnostics));
    }
    const total = (k: "tests" | "failures" | "errors" | "skipped"): number => suites.reduce((n, s) => n + s[k], 0);
    return (
        `<?xml version="1.0" encoding="UTF-8"?>\n` +
        `<testsuites name="oidc-guard verify" tests="${total("tests")}" failures="${total("failures")}" errors="${total("errors")}" skipped="${total("skipped")}">\n` +
        suites.map((s) => s.xml).join("\n") +
        `\n</testsuites>\n`
    );
}

/** Renders in `format`. */
export function render(r: VerificationResult | BatchVerificationResult, format: OutputFormat): string {
    switch (format) {
        case "json":
            return escapeJsonOutput(renderJson(r));
        case "junit":
            return guardCiLog(renderJunit(r), "xml");
        case "text": {
            // Every value shown as text (environment names, ARNs STS returned, stack outputs, service messages).
            const safe = escapeTextDeep(r);
            return guardCiLog("results" in safe ? renderBatchText(safe) : renderText(safe));
        }
        default:
            return format satisfies never;
    }
}
