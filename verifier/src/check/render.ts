/** Text and JSON renderings of a {@link CheckReport}. */
import type { Finding, PulumiToken, Verdict } from "oidc-guard-policypack/analysis";
import { encodeJsonOutput, escapeJsonOutput, escapeText, escapeTextDeep, guardCiLog, guardInlineCommands } from "../escape.js";
import { MARK_IN_TEXT, markValue, TemplatedResult, templatedItem, type TemplatedRole } from "./prerender.js";
import { ByteSink, ChunkedArray, joinChunks, jsonChunks, LateValue, type OutputChunk, type RenderedItems } from "../chunks.js";
import type { CheckReport, CheckResult, CheckTarget, ToolInfo } from "../results.js";
import { redactDeep } from "../redact.js";

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
export function targetLabel(r: Pick<CheckResult, "target">, show: (s: string) => string = (s) => s): string {
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

/** A target as its table row shows it. */
function labelOf(target: CheckTarget): string {
    return clipStart(escapeText(targetLabel({ target })), 64);
}

/** Where one result's text goes: its table rows' cells (five a row), the widths they need, and its detail lines. */
interface TextOut {
    cells: string[];
    /** The widest target, finding and worst class so far. */
    widths: number[];
    line: (s: string) => void;
}

/** A finding's table row after its first two cells: finding, worst class, and token (not clipped yet: {@link clipToken}). */
function findingCells(f: Finding, e: (s: string) => string): [rule: string, worst: string, token: string] {
    return [e(f.ruleId), e(blastSummary(f)), e(formatToken(f.counterexample))];
}

function clipToken(token: string): string {
    return clipEnd(token, 90);
}

/** A table row of a finding: target (empty but on a result's first row), verdict, finding, worst class, token. */
function row(out: TextOut, label: string, verdict: Verdict, [rule, worst, token]: readonly [string, string, string]): void {
    const w = out.widths;
    if (rule.length > w[1]!) w[1] = rule.length;
    if (worst.length > w[2]!) w[2] = worst.length;
    out.cells.push(label, verdict, rule, worst, clipToken(token));
}

/** A result's first detail lines: an empty line, its verdict and target, and its id when that is not its name. */
function headLines(target: CheckTarget, verdict: Verdict, paint: Paint, line: (s: string) => void): void {
    const e = escapeText;
    line("");
    const res = target.resource;
    const urn = res ? e(res.urn) : "";
    line(`${paint(VERDICT_COLOUR[verdict], e(verdict).toUpperCase())} ${targetLabel({ target }, e)}` + (res ? ` (${e(res.type)})` : ""));
    if (res && urn !== e(res.name)) line(`  id:    ${urn}`);
}

/**
 * A finding's detail lines, each given to `line` (without its newline), each value escaped by `e` as it is shown.
 * Every detail line starts with words of the report's own (a verdict, `id:`, `where:`, `fix:`...) but a finding's
 * first line, which starts with its rule id: that line alone is guarded for CI logs (no value can start a line, as
 * values are escaped).
 */
function findingLines(f: Finding, paint: Paint, e: (s: string) => string, line: (s: string) => void): void {
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

function noteLines(notes: readonly string[] | undefined, e: (s: string) => string, line: (s: string) => void): void {
    for (const n of notes ?? []) line(`  note: ${e(n)}`);
}

/**
 * One result's part of the text report: its rows, and its details (none for a pass without findings). Each value is
 * escaped as it is shown, not a copy of the whole result with every string escaped.
 */
function resultText(r: CheckResult, paint: Paint, out: TextOut): void {
    const label = labelOf(r.target);
    if (label.length > out.widths[0]!) out.widths[0] = label.length;
    if (r.findings.length === 0) out.cells.push(label, r.verdict, "-", "-", "-");
    for (let i = 0; i < r.findings.length; i++) row(out, i === 0 ? label : "", r.verdict, findingCells(r.findings[i]!, escapeText));
    if (r.verdict === "pass" && r.findings.length === 0) return;
    headLines(r.target, r.verdict, paint, out.line);
    for (const f of r.findings) findingLines(f, paint, escapeText, out.line);
    noteLines(r.notes, escapeText, out.line);
}

/**
 * A text with marks ({@link TemplatedResult.marked}) cut at them: filled with a role's values, each escaped for the
 * terminal, it is the text that role's own result gives (escaping is character by character).
 */
export class Cut {
    /** Whether a piece holds a `#`: then a `##[` could span a piece and a value, and the filled text is guarded whole. */
    private readonly hash: boolean;

    private constructor(
        private readonly pieces: readonly string[],
        private readonly kinds: readonly string[],
        private readonly indexes: readonly number[],
    ) {
        this.hash = pieces.some((p) => p.includes("#"));
    }

    /** `text`, written with the marks kept as they are ({@link escapeAroundMarks}). */
    static of(text: string): Cut {
        const pieces: string[] = [];
        const kinds: string[] = [];
        const indexes: number[] = [];
        let from = 0;
        for (const m of text.matchAll(MARK_IN_TEXT)) {
            pieces.push(text.slice(from, m.index));
            kinds.push(m[1]!);
            indexes.push(Number(m[2]));
            from = m.index + m[0].length;
        }
        pieces.push(text.slice(from));
        return new Cut(pieces, kinds, indexes);
    }

    fill(role: TemplatedRole): string {
        if (this.kinds.length === 0) return this.pieces[0]!;
        let s = this.pieces[0]!;
        for (let i = 0; i < this.kinds.length; i++) s += escapeText(markValue(this.kinds[i]!, this.indexes[i]!, role)) + this.pieces[i + 1]!;
        if (this.hash) s = guardInlineCommands(s);
        return s;
    }
}

const HAS_MARK = new RegExp(MARK_IN_TEXT.source);

/** {@link escapeText} of the text between the marks; the marks kept as they are, to be cut at ({@link Cut}). */
function escapeAroundMarks(s: string): string {
    let out = "";
    let from = 0;
    for (const m of s.matchAll(MARK_IN_TEXT)) {
        out += escapeText(s.slice(from, m.index)) + m[0];
        from = m.index + m[0].length;
    }
    return out + escapeText(s.slice(from));
}

/**
 * The text of a template's kind of role ({@link TemplatedResult}) but for its values: each finding of its analysis's
 * row (finding and worst class as they are, the token cut at its marks), and the lines of those findings and of its
 * notes, cut at their marks. A role of the kind is written from them and its own target, verdict and added findings.
 */
class TextPieces {
    private constructor(
        private readonly rows: ReadonlyArray<{ rule: string; worst: string; token: Cut }>,
        private readonly findings: Cut | undefined,
        private readonly notes: Cut | undefined,
    ) {}

    /** The pieces of `r`'s kind; undefined when its kind has no marked result or a finding's cells hold a mark. */
    static of(r: TemplatedResult, paint: Paint): TextPieces | undefined {
        const marked = r.marked();
        if (marked === undefined) return undefined;
        const rows: Array<{ rule: string; worst: string; token: Cut }> = [];
        for (const f of marked.findings) {
            const [rule, worst, token] = findingCells(f, escapeAroundMarks);
            if (HAS_MARK.test(rule) || HAS_MARK.test(worst)) return undefined;
            rows.push({ rule, worst, token: Cut.of(token) });
        }
        const joined = (write: (line: (s: string) => void) => void): Cut | undefined => {
            const lines: string[] = [];
            write((s) => lines.push(s));
            return lines.length === 0 ? undefined : Cut.of(lines.join("\n"));
        };
        const findings = joined((line) => marked.findings.forEach((f) => findingLines(f, paint, escapeAroundMarks, line)));
        const notes = joined((line) => noteLines(marked.notes, escapeAroundMarks, line));
        return new TextPieces(rows, findings, notes);
    }

    /** `r`'s part of the text report, as {@link resultText} writes it from its full result. */
    write(r: TemplatedResult, paint: Paint, out: TextOut): void {
        const role = r.templatedRole;
        const { verdict, added } = role;
        const label = labelOf(role.target);
        if (label.length > out.widths[0]!) out.widths[0] = label.length;
        const count = this.rows.length + added.length;
        if (count === 0) out.cells.push(label, verdict, "-", "-", "-");
        for (let i = 0; i < this.rows.length; i++) {
            const p = this.rows[i]!;
            row(out, i === 0 ? label : "", verdict, [p.rule, p.worst, p.token.fill(role)]);
        }
        for (let i = 0; i < added.length; i++) row(out, this.rows.length + i === 0 ? label : "", verdict, findingCells(added[i]!, escapeText));
        if (verdict === "pass" && count === 0) return;
        headLines(role.target, verdict, paint, out.line);
        if (this.findings !== undefined) out.line(this.findings.fill(role));
        for (const f of added) findingLines(f, paint, escapeText, out.line);
        if (this.notes !== undefined) out.line(this.notes.fill(role));
    }
}

/** Where a result's text goes for {@link textPiecesGive}: kept as text. */
function scratch(): TextOut & { lines: string[] } {
    const lines: string[] = [];
    return { cells: [], widths: [0, 0, 0], lines, line: (s) => lines.push(s) };
}

/** Whether `pieces` write `r` exactly as its full result is written (`r` is then no longer written from its template). */
function textPiecesGive(pieces: TextPieces, r: TemplatedResult, paint: Paint): boolean {
    const fromPieces = scratch();
    pieces.write(r, paint, fromPieces);
    const fromResult = scratch();
    resultText(r.full(), paint, fromResult);
    const same = (a: readonly unknown[], b: readonly unknown[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    return same(fromPieces.cells, fromResult.cells) && same(fromPieces.widths, fromResult.widths) && fromPieces.lines.join("\n") === fromResult.lines.join("\n");
}

/**
 * The text pieces of each kind of templated role met ({@link TemplatedResult.kind}), without colours and with (null:
 * its roles are written from their full results). Shared by every report of the thread (a worker's makes one a block).
 */
const TEXT_PIECES = new WeakMap<object, [TextPieces | null | undefined, TextPieces | null | undefined]>();

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
export class TextReport implements TextOut {
    /** Five cells a table row: target (empty on a result's later rows), verdict, finding, worst class, token. */
    readonly cells: string[] = [];
    private readonly details: Uint8Array[] = [];
    /** Details not yet in `details`: each line encoded as it is made (a line with a label is two-byte text, the others one-byte). */
    private sink = new ByteSink(DETAIL_BUFFER);
    /**
     * Each detail line, as made: the report's own words (no `#` in them) and values each escaped, `##[` and `##vso[`
     * included, by `escapeText`; names hold no `#`, and a text cut at marks whose pieces do is guarded whole
     * ({@link Cut.fill}).
     */
    readonly line = (s: string): void => this.sink.line(s);
    readonly widths = [HEAD[0].length, HEAD[2].length, HEAD[3].length];
    private readonly colour: boolean;
    private readonly paint: Paint;
    readonly summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    count = 0;
    /** How many results were written from their kind's text pieces (for the tests). */
    fromPieces = 0;

    constructor(colour: boolean) {
        this.colour = colour;
        this.paint = painter(colour);
    }

    add(r: CheckResult): void {
        this.count++;
        this.summary[r.verdict]++;
        if (r instanceof TemplatedResult && r.templated) {
            const pieces = this.piecesOf(r);
            // Learning them made `r`'s full result (to check them against): it is then written from that.
            if (pieces !== null && r.templated) {
                pieces.write(r, this.paint, this);
                this.fromPieces++;
            } else resultText(r, this.paint, this);
        } else resultText(r, this.paint, this);
        if (this.sink.length >= DETAIL_BYTES) this.flushDetails();
    }

    /**
     * The text pieces of `r`'s kind, learned from it (then checked against its full result, which is made: `r` itself
     * is then written from that); null when they cannot be had or do not give its text.
     */
    private piecesOf(r: TemplatedResult): TextPieces | null {
        let known = TEXT_PIECES.get(r.kind);
        if (known === undefined) TEXT_PIECES.set(r.kind, (known = [undefined, undefined]));
        const at = this.colour ? 1 : 0;
        const had = known[at];
        if (had !== undefined) return had;
        const made = TextPieces.of(r, this.paint);
        const pieces = made !== undefined && textPiecesGive(made, r, this.paint) ? made : null;
        known[at] = pieces;
        return pieces;
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

    /**
     * Every result and block of `items` (a check's results, with blocks of parallel.ts `parallelTextStage` among
     * them), in order; says how many roles the worker thread checked.
     */
    addAll(items: Iterable<CheckResult | { rendered: TextBlock; roles: number; worker: boolean }>): number {
        let byWorker = 0;
        for (const r of items) {
            if (!("rendered" in r)) this.add(r);
            else {
                this.addBlock(r.rendered);
                if (r.worker) byWorker += r.roles;
            }
        }
        return byWorker;
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
        for (const s of escapeTextDeep(redactDeep(rawSkipped))) out.line(`skipped ${s.file}: ${s.reason}`);
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
