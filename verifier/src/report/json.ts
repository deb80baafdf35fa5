/**
 * JSON: the documented result shapes. Check results alone → one `CheckReport` (results of all inputs, summary
 * recounted), valid against verifier/schemas/check-result.schema.json; one verify result alone (single or batch) →
 * itself; anything else → a `MergedReport` holding both (schema: verifier/schemas/merged-report.schema.json; see this
 * file). All values redacted (the model's copies are).
 */
import { escapeJsonOutput } from "../escape.js";
import type { Verdict } from "oidc-guard-policypack/analysis";
import type { CheckReport, ToolInfo, VerifyBatchReport, VerifyReport } from "../results.js";
import type { ReportModel } from "./model.js";

/** What `oidc-guard report --format json` prints when its inputs mix kinds or hold several verify results. */
export interface MergedReport {
    tool: ToolInfo;
    generatedAt: string;
    checks: CheckReport;
    /** Verify results as they came: single environments and batches. */
    verifications: (VerifyReport | VerifyBatchReport)[];
    summary: {
        checks: Record<Verdict, number>;
        /** Environments by verdict, over single results and the results inside batches. */
        verifications: Record<VerifyReport["verdict"], number>;
    };
    /** True when there is at least one target and every check passed and every environment verified. */
    passed: boolean;
}

/** All check reports as one (results in input order, summary recounted from the verdicts). */
export function mergeChecks(tool: ToolInfo, reports: readonly CheckReport[]): CheckReport {
    if (reports.length === 1 && reports[0]) {
        const only = reports[0];
        return { ...only, summary: countVerdicts(only) };
    }
    const merged: CheckReport = { tool, results: reports.flatMap((r) => r.results), summary: { pass: 0, fail: 0, unknown: 0, error: 0 } };
    merged.summary = countVerdicts(merged);
    return merged;
}

function countVerdicts(report: CheckReport): Record<Verdict, number> {
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of report.results) summary[r.verdict]++;
    return summary;
}

/** Renders the model as JSON (see the file comment for which shape). */
export function renderJson(model: ReportModel): string {
    let doc: CheckReport | VerifyReport | VerifyBatchReport | MergedReport;
    if (model.verifications.length === 0 && model.checks.length > 0) {
        doc = mergeChecks(model.tool, model.checks);
    } else if (model.checks.length === 0 && model.verifications.length === 1 && model.verifications[0]) {
        doc = model.verifications[0];
    } else {
        const verifications: Record<VerifyReport["verdict"], number> = { verified: 0, failed: 0, error: 0 };
        for (const v of model.verifications) {
            for (const r of "results" in v ? v.results : [v]) verifications[r.verdict]++;
        }
        const checks = mergeChecks(model.tool, model.checks);
        doc = {
            tool: model.tool,
            generatedAt: model.generatedAt,
            checks,
            verifications: model.verifications,
            summary: { checks: checks.summary, verifications },
            passed: model.passed,
        };
    }
    return `${escapeJsonOutput(JSON.stringify(doc, null, 2))}\n`;
}
