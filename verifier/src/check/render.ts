/** Text and JSON renderings of a {@link CheckReport}. */
import type { Finding, PulumiToken, Verdict } from "oidc-guard-policypack/analysis";
import { encodeJsonOutput, escapeJsonOutput, escapeText, escapeTextDeep, guardCiLog } from "../escape.js";
import { templatedItem } from "./prerender.js";
import { ByteSink, ChunkedArray, joinChunks, jsonChunks, LateValue, type OutputChunk, type RenderedItems } from "../chunks.js";
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
    return joinChunks(renderTextChunks(report, colour, fileCount, skipped, unit));
}

/** About how many bytes one chunk of the text report holds (table rows or details): taken once this many are written. */
const DETAIL_BYTES = 64 * 1024;
/** A chunk's buffer: room for the result that crosses DETAIL_BYTES (about 1 KB, rarely more), so it seldom grows. */
const DETAIL_BUFFER = DETAIL_BYTES + 16 * 1024;

const HEAD = ["TARGET", "VERDICT", "FINDING", "WORST CLASS", "TOKEN THAT GETS IN"] as const;
const W1 = Math.max(HEAD[1].length, "unknown".length);

/** Colours for a TTY; the same text without them otherwise. */
function painter(colour: boolean): Paint {
    return colour ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;
}

/** A result's target as its table row shows it. */
function labelOf(r: CheckResult): string {
    return clipStart(escapeText(targetLabel(r)), 64);
}

/**
 * A result's lines in the details, each given to `line` (without its newline): an empty line, then the target, its
 * findings and notes. Each value is escaped as it is shown, not a copy of the whole result with every string escaped.
 * Every line starts with words of the report's own (a verdict, `id:`, `where:`, `fix:`...) but a finding's line, which
 * starts with its rule id: that line alone is guarded for CI logs (no value can start a line, as values are escaped).
 */
function detailLines(r: CheckResult, paint: Paint, line: (s: string) => void): void {
    const e = escapeText;
    line("");
    const res = r.target.resource;
    const urn = res ? e(res.urn) : "";
    line(`${paint(VERDICT_COLOUR[r.verdict], e(r.verdict).toUpperCase())} ${targetLabel(r, e)}` + (res ? ` (${e(res.type)})` : ""));
    if (res && urn !== e(res.name)) line(`  id:    ${urn}`);
    for (const f of r.findings) {
        line(guardCiLog(`  ${paint("1", e(f.ruleId))} [${e(f.severity)}${f.advisory ? ", advisory" : ""}] ${e(f.message)}`));
        if (f.path !== "") line(`    where: ${e(f.path)}`);
        if (f.counterexample) {
            const t = f.counterexample;
            const described = f.tokenDescription ? `${e(f.tokenDescription)}: ` : "";
            line(`    token that gets in: ${described}issuer=${e(t.issuer)} aud=${e(t.aud)} sub=${e(t.sub)}`);
        }
        for (const b of f.blastRadius ?? []) {
            line(`    admits ${e(b.class)}: ${e(b.description)}; e.g. aud=${e(b.counterexample.aud)} sub=${e(b.counterexample.sub)}`);
        }
        for (const reading of f.readings ?? []) line(`    reading: ${e(reading)}`);
        line(`    fix:   ${e(f.remediation)}`);
    }
    for (const n of r.notes ?? []) line(`  note: ${e(n)}`);
}

/** A block of results as {@link TextReport} collects them: what another thread sends (cloned, the details transferred). */
export interface TextBlock {
    /** Five a table row (see {@link TextReport}), escaped, not padded. */
    cells: string[];
    /** The widest target, finding and worst class among them. */
    widths: number[];
    /** Their details: whole lines, escaped, guarded and encoded (UTF-8). */
    details: Uint8Array<ArrayBuffer>;
    count: number;
    verdicts: Record<Verdict, number>;
}

const VERDICTS: readonly Verdict[] = ["pass", "fail", "unknown", "error"];

/**
 * The text report collected result by result, then written: the table's widths are known only once every result is
 * in. Each result's table cells are kept (escaped, not padded) and its details are written at once, escaped,
 * guarded and encoded, as bytes outside the heap; the result itself is let go. So a run need not hold its results
 * (at 100,000 roles, what the garbage collector copied most), nor measure them twice.
 */
export class TextReport {
    /** Five cells a table row: target (empty on a result's later rows), verdict, finding, worst class, token. */
    private readonly cells: string[] = [];
    private readonly details: Uint8Array[] = [];
    /** Details not yet in `details`: each line encoded as it is made (a line with a label is two-byte text, the others one-byte). */
    private sink = new ByteSink(DETAIL_BUFFER);
    private readonly line = (s: string): void => this.sink.line(s);
    private widths = [HEAD[0].length, HEAD[2].length, HEAD[3].length];
    private readonly paint: Paint;
    readonly summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    count = 0;

    constructor(colour: boolean) {
        this.paint = painter(colour);
    }

    add(r: CheckResult): void {
        this.count++;
        this.summary[r.verdict]++;
        const label = labelOf(r);
        const w = this.widths;
        if (label.length > w[0]!) w[0] = label.length;
        if (r.findings.length === 0) this.cells.push(label, r.verdict, "-", "-", "-");
        for (let i = 0; i < r.findings.length; i++) {
            const f = r.findings[i]!;
            const rule = escapeText(f.ruleId);
            const worst = escapeText(blastSummary(f));
            if (rule.length > w[1]!) w[1] = rule.length;
            if (worst.length > w[2]!) w[2] = worst.length;
            this.cells.push(i === 0 ? label : "", r.verdict, rule, worst, clipEnd(escapeText(formatToken(f.counterexample)), 90));
        }
        if (r.verdict === "pass" && r.findings.length === 0) return;
        detailLines(r, this.paint, this.line);
        if (this.sink.length >= DETAIL_BYTES) this.flushDetails();
    }

    /**
     * The text report's parts of a block of results collected elsewhere (another thread's; {@link TextReport.block}):
     * added after the results before them, as if each had been added here.
     */
    addBlock(b: TextBlock): void {
        this.flushDetails();
        for (const c of b.cells) this.cells.push(c);
        for (let i = 0; i < 3; i++) if (b.widths[i]! > this.widths[i]!) this.widths[i] = b.widths[i]!;
        if (b.details.length > 0) this.details.push(b.details);
        this.count += b.count;
        for (const v of VERDICTS) this.summary[v] += b.verdicts[v];
    }

    /** What was collected, to be added to another thread's report: the details in one buffer of their own (transferable). */
    block(): TextBlock {
        this.flushDetails();
        let n = 0;
        for (const d of this.details) n += d.length;
        const sink = new ByteSink(n);
        for (const d of this.details) sink.bytes(d);
        return { cells: this.cells, widths: [...this.widths], details: sink.take(), count: this.count, verdicts: { ...this.summary } };
    }

    private flushDetails(): void {
        if (this.sink.length === 0) return;
        this.details.push(this.sink.take());
        this.sink = new ByteSink(DETAIL_BUFFER);
    }

    /**
     * The report in chunks of whole lines: the table, the details (bytes), and the summary line, counting `fileCount`
     * inputs (`unit`: file, account) and naming the inputs skipped; `summary` as given (a report's own), else counted.
     */
    *chunks(
        fileCount: number,
        rawSkipped: readonly { file: string; reason: string }[] = [],
        unit = "file",
        summary: Record<Verdict, number> = this.summary,
    ): Generator<OutputChunk> {
        this.flushDetails();
        const paint = this.paint;
        const [w0, w2, w3] = this.widths as [number, number, number];
        // Lines encoded one by one into chunks of about DETAIL_BYTES (a row with a label is two-byte text, the
        // others one-byte), each guarded for CI logs: a row starts with its target, a value.
        let out = new ByteSink(DETAIL_BUFFER);
        out.line(paint("1", `${HEAD[0].padEnd(w0)}  ${HEAD[1].padEnd(W1)}  ${HEAD[2].padEnd(w2)}  ${HEAD[3].padEnd(w3)}  ${HEAD[4]}`));
        const cells = this.cells;
        for (let i = 0; i < cells.length; i += 5) {
            const t = cells[i]!;
            const v = cells[i + 1] as Verdict;
            // Repeat the verdict only on a target's first row.
            const verdict = i === 0 || t !== "" ? paint(VERDICT_COLOUR[v], v.padEnd(W1)) : "".padEnd(W1);
            out.line(guardCiLog(`${t.padEnd(w0)}  ${verdict}  ${cells[i + 2]!.padEnd(w2)}  ${cells[i + 3]!.padEnd(w3)}  ${cells[i + 4]!}`.trimEnd()));
            if (out.length >= DETAIL_BYTES) {
                yield out.take();
                out = new ByteSink(DETAIL_BUFFER);
            }
        }
        if (this.details.length > 0) {
            out.line("");
            out.line(paint("1", "Details"));
            yield out.take();
            out = new ByteSink(DETAIL_BUFFER);
            yield* this.details;
        }
        const total = this.count;
        out.line("");
        out.line(`${total} target${total === 1 ? "" : "s"} in ${fileCount} ${unit}${fileCount === 1 ? "" : "s"}: ${summaryText(summary)}`);
        for (const s of escapeTextDeep(rawSkipped)) out.line(`skipped ${s.file}: ${s.reason}`);
        yield out.take();
    }
}

/**
 * The text report in chunks of whole lines, the same text {@link renderText} returns, without ever holding all of
 * it as one string: 100,000 roles make over 100 MB of text. Every value from the input (file and resource names,
 * URNs, quoted conditions) is escaped as it is shown: no control character reaches the terminal, and no line starts
 * with `::` for a CI runner to obey.
 */
export function renderTextChunks(
    report: CheckReport,
    colour: boolean,
    fileCount: number,
    rawSkipped: readonly { file: string; reason: string }[] = [],
    unit = "file",
): Generator<OutputChunk> {
    const text = new TextReport(colour);
    for (const r of report.results) text.add(r);
    return text.chunks(fileCount, rawSkipped, unit, report.summary);
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
