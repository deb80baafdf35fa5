/** Text and JSON renderings of a {@link CheckReport}. */
import type { Finding, PulumiToken, Verdict } from "oidc-guard-policypack/analysis";
import { encodeJsonOutput, escapeJsonOutput, escapeText, escapeTextDeep, guardCiLog } from "../escape.js";
import { templatedItem } from "./prerender.js";
import { ChunkedArray, joinChunks, jsonChunks, LateValue, type OutputChunk, type RenderedItems } from "../chunks.js";
import type { CheckReport, CheckResult, ToolInfo } from "../results.js";

/** Whether to colour: only for a TTY, and never when `NO_COLOR` is set to a non-empty value (no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
    return stream.isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== "");
}

const VERDICT_COLOUR: Record<Verdict, string> = { pass: "32", fail: "31", unknown: "33", error: "35" };

type Paint = (code: string, s: string) => string;

/** `aud=aws:acme sub=pulumi:…` (issuer left out: the details say it). */
export function formatToken(t: PulumiToken | null): string {
    return t ? `aud=${t.aud} sub=${t.sub}` : "-";
}

/** The worst class of unintended tokens and how many classes: `every-project (3 classes)`; `-` when none. */
export function blastSummary(f: Finding): string {
    const b = f.blastRadius ?? [];
    if (b.length === 0) return f.advisory ? "advisory" : "-";
    return `${b[0]!.class}${b.length > 1 ? ` (${b.length} classes)` : ""}`;
}

/**
 * `file › name` for resources (`file:line › name` when the line is known), `file` for bare documents; `show` is
 * applied to the file and the name (the escaping of the medium).
 */
export function targetLabel(r: CheckResult, show: (s: string) => string = (s) => s): string {
    const file = r.target.line !== undefined ? `${show(r.target.file)}:${r.target.line}` : show(r.target.file);
    return r.target.resource ? `${file} › ${show(r.target.resource.name)}` : file;
}

function clipEnd(s: string, max: number): string {
    return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Keeps the end of a target label (the resource name matters more than the directory). */
function clipStart(s: string, max: number): string {
    return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

/** Summary counts as `3 pass, 1 fail, 0 unknown, 0 error`. */
export function summaryText(summary: Record<Verdict, number>): string {
    return `${summary.pass} pass, ${summary.fail} fail, ${summary.unknown} unknown, ${summary.error} error`;
}

/**
 * The text report: a table (target, verdict, finding, a token that gets in), then the details of every target
 * that did not pass (message, path, fix, notes), then one summary line. Names and values from the inputs (a
 * template's logical ids, a role name) cannot carry terminal control sequences into it.
 */
export function renderText(
    report: CheckReport,
    colour: boolean,
    fileCount: number,
    skipped: readonly { file: string; reason: string }[] = [],
    unit = "file",
): string {
    return [...renderTextChunks(report, colour, fileCount, skipped, unit)].join("");
}

/** How many table rows or detail blocks one chunk of the text report holds. */
const TEXT_BATCH = 64;

type Row = [label: string, verdict: Verdict, finding: string, worst: string, token: string];

/** A result's target as its table row shows it. */
function labelOf(r: CheckResult): string {
    return clipStart(escapeText(targetLabel(r)), 64);
}

/** The table rows of one result (values escaped as they are shown): one per finding, or one `-` row. */
function rowsOf(r: CheckResult): Row[] {
    const label = labelOf(r);
    if (r.findings.length === 0) return [[label, r.verdict, "-", "-", "-"]];
    return r.findings.map((f, i): Row => [
        i === 0 ? label : "",
        r.verdict,
        escapeText(f.ruleId),
        escapeText(blastSummary(f)),
        clipEnd(escapeText(formatToken(f.counterexample)), 90),
    ]);
}

/**
 * The text report in chunks of whole lines, the same text {@link renderText} returns, without ever holding all of
 * it (or an escaped copy of the whole report): 100,000 roles make over 100 MB of text. Every value from the input
 * (file and resource names, URNs, quoted conditions) is escaped as it is shown: no control character reaches the
 * terminal, and no line starts with `::` for a CI runner to obey.
 */
export function* renderTextChunks(
    report: CheckReport,
    colour: boolean,
    fileCount: number,
    rawSkipped: readonly { file: string; reason: string }[] = [],
    unit = "file",
): Generator<string> {
    const paint: Paint = colour ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;
    const chunk = (lines: string[]): string => guardCiLog(`${lines.join("\n")}\n`);
    const head = ["TARGET", "VERDICT", "FINDING", "WORST CLASS", "TOKEN THAT GETS IN"] as const;
    // Column widths first (a loop: a spread of 100,000 widths would overflow the call stack), rows again below.
    let w0 = head[0].length;
    let w2 = head[2].length;
    let w3 = head[3].length;
    // Only the padded columns are measured: the token, shown last and not padded, is made in the second pass alone.
    for (const r of report.results) {
        w0 = Math.max(w0, labelOf(r).length);
        for (const f of r.findings) {
            w2 = Math.max(w2, escapeText(f.ruleId).length);
            w3 = Math.max(w3, escapeText(blastSummary(f)).length);
        }
    }
    const w1 = Math.max(head[1].length, "unknown".length);
    let lines: string[] = [paint("1", `${head[0].padEnd(w0)}  ${head[1].padEnd(w1)}  ${head[2].padEnd(w2)}  ${head[3].padEnd(w3)}  ${head[4]}`)];
    let first = true;
    for (const r of report.results) {
        for (const [t, v, f, b, c] of rowsOf(r)) {
            // Repeat the verdict only on a target's first row.
            const firstOfTarget = first || t !== "";
            first = false;
            const verdict = firstOfTarget ? paint(VERDICT_COLOUR[v], v.padEnd(w1)) : "".padEnd(w1);
            lines.push(`${t.padEnd(w0)}  ${verdict}  ${f.padEnd(w2)}  ${b.padEnd(w3)}  ${c}`.trimEnd());
        }
        if (lines.length >= TEXT_BATCH) {
            yield chunk(lines);
            lines = [];
        }
    }

    let details = 0;
    for (const raw of report.results) {
        if (raw.verdict === "pass" && raw.findings.length === 0) continue;
        if (details++ === 0) lines.push("", paint("1", "Details"));
        // Each value escaped as it is shown (not a copy of the whole result with every string escaped).
        const e = escapeText;
        lines.push("");
        const res = raw.target.resource;
        const verdict = e(raw.verdict);
        const urn = res ? e(res.urn) : "";
        lines.push(
            `${paint(VERDICT_COLOUR[raw.verdict], verdict.toUpperCase())} ${targetLabel(raw, e)}` + (res ? ` (${e(res.type)})` : ""),
        );
        if (res && urn !== e(res.name)) lines.push(`  id:    ${urn}`);
        for (const f of raw.findings) {
            lines.push(`  ${paint("1", e(f.ruleId))} [${e(f.severity)}${f.advisory ? ", advisory" : ""}] ${e(f.message)}`);
            if (f.path !== "") lines.push(`    where: ${e(f.path)}`);
            if (f.counterexample) {
                const t = f.counterexample;
                const described = f.tokenDescription ? `${e(f.tokenDescription)}: ` : "";
                lines.push(`    token that gets in: ${described}issuer=${e(t.issuer)} aud=${e(t.aud)} sub=${e(t.sub)}`);
            }
            for (const b of f.blastRadius ?? []) {
                lines.push(`    admits ${e(b.class)}: ${e(b.description)}; e.g. aud=${e(b.counterexample.aud)} sub=${e(b.counterexample.sub)}`);
            }
            for (const reading of f.readings ?? []) lines.push(`    reading: ${e(reading)}`);
            lines.push(`    fix:   ${e(f.remediation)}`);
        }
        for (const n of raw.notes ?? []) lines.push(`  note: ${e(n)}`);
        if (lines.length >= TEXT_BATCH) {
            yield chunk(lines);
            lines = [];
        }
    }
    const total = report.results.length;
    lines.push(
        "",
        `${total} target${total === 1 ? "" : "s"} in ${fileCount} ${unit}${fileCount === 1 ? "" : "s"}: ${summaryText(report.summary)}`,
    );
    for (const s of escapeTextDeep(rawSkipped)) lines.push(`skipped ${s.file}: ${s.reason}`);
    yield chunk(lines);
}

/** The JSON report: one object, two-space indented, newline-terminated. */
export function renderJson(report: CheckReport): string {
    return joinChunks(renderJsonChunks(report));
}

/**
 * The JSON report in chunks, byte for byte what `JSON.stringify(report, null, 2)` (escaped for output) writes, without
 * ever holding all of it: a 100,000-role run never builds one string of hundreds of megabytes (V8 strings stop at
 * 512 MiB).
 */
export function renderJsonChunks(report: CheckReport): Generator<OutputChunk> {
    const results = new ChunkedArray(report.results);
    return jsonChunks({ ...report, results }, [results], escapeJsonOutput);
}

/**
 * How deep the results array of a JSON report is (`{"results": [...]}`): results rendered by another thread
 * ({@link RenderedItems}) are rendered for this depth.
 */
export const RESULTS_DEPTH = 1;

/**
 * The JSON report of results made while it is written ({@link renderJsonChunks}'s bytes for the same results): each
 * result is asked for when its batch is written and let go after it, and the summary counts them as they pass, so
 * it is complete when it is written after them. `summary` is called once, after the last result. Results a worker
 * thread checked come as their bytes ({@link RenderedItems}, rendered for {@link RESULTS_DEPTH} and encoded by
 * {@link encodeJsonOutput}). Every chunk is bytes: rendered here, escaped and encoded at once.
 */
export function renderJsonStream(
    tool: ToolInfo,
    results: Iterable<CheckResult | RenderedItems>,
    summary: () => Record<Verdict, number>,
): Generator<OutputChunk> {
    // Results remembered from their templates are written from them (prerender.ts).
    const chunked = new ChunkedArray(results, undefined, templatedItem);
    const counts = new LateValue(summary);
    return jsonChunks({ tool, results: chunked, summary: counts }, [chunked, counts], encodeJsonOutput);
}
