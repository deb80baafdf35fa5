/** Test helper: the sample results in fixtures/reports and the sources they were checked from. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckReport, VerifyBatchReport, VerifyReport } from "../../results.js";
import type { ReportInput } from "../model.js";

/** The repository root (tests run from anywhere). */
export const ROOT = join(__dirname, "..", "..", "..", "..");
export const FIXTURES = join(ROOT, "fixtures", "reports");

export function readJson<T>(path: string): T {
    return JSON.parse(readFileSync(path, "utf8")) as T;
}

export const checkFiles = (): CheckReport => readJson(join(FIXTURES, "check-files.json"));
export const checkStack = (): CheckReport => readJson(join(FIXTURES, "check-stack.json"));
export const checkPreview = (): CheckReport => readJson(join(FIXTURES, "check-preview.json"));
export const verifyVerified = (): VerifyReport => readJson(join(FIXTURES, "verify-verified.json"));
export const verifyFailed = (): VerifyReport => readJson(join(FIXTURES, "verify-failed.json"));
export const verifyBatch = (): VerifyBatchReport => readJson(join(FIXTURES, "verify-batch.json"));

/** The texts of every file the sample check results name, keyed as in the results. */
export function sampleSources(reports: readonly CheckReport[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of reports) for (const res of r.results) out.set(res.target.file, readFileSync(join(ROOT, res.target.file), "utf8"));
    return out;
}

/** Every sample result, with sources, at a fixed time. */
export function sampleInput(): ReportInput {
    const checks = [checkFiles(), checkStack(), checkPreview()];
    return {
        checks,
        verifications: [verifyVerified(), verifyFailed()],
        sources: sampleSources(checks),
        generatedAt: new Date("2026-05-04T12:00:00Z"),
        tool: { name: "oidc-guard", version: "0.1.0" },
    };
}

/** 1-based line of the `n`-th (0-based) occurrence of `needle` in `text`. */
export function lineOf(text: string, needle: string, n = 0): number {
    let at = -1;
    for (let i = 0; i <= n; i++) {
        at = text.indexOf(needle, at + 1);
        if (at < 0) throw new Error(`'${needle}' occurs fewer than ${n + 1} times`);
    }
    return text.slice(0, at).split("\n").length;
}
