/**
 * Compliance reports: the API `check`, `verify` and `report` share.
 *
 * ```ts
 * import { REPORT_FLAG_OPTIONS, parseReportFlags, writeReports } from "./report/index.js";
 *
 * // 1. Add the flags to the command's option table, parsed by the one argument parser (../args.ts):
 * const { values } = parseCommandArgs("<command>", argv, { ...REPORT_FLAG_OPTIONS, ...ownOptions });
 * // 2. Turn them into outputs (throws CliError, exit 2, on a bad value). `otherFormats` are formats the command
 * //    renders itself (e.g. "text"): they come back in `other` instead of raising an error.
 * const flags = parseReportFlags(values, { defaultFormat: "text", otherFormats: ["text"], command: "<command>" });
 * // 3. After the run, write every requested report (stdout for "-"); throws CliError (exit 2) when a file cannot be written.
 * await writeReports(flags.outputs, { checks: [checkReport], sources }, io);
 * ```
 *
 * - `renderReport(format, input)` renders one format to a string (`renderReportChunks`: the same in chunks). `input` holds any number of `CheckReport`s and
 *   `VerifyReport`s / `VerifyBatchReport`s, plus optionally the texts of the checked files (`sources`, keyed by `CheckTarget.file`) so that
 *   SARIF and the other formats can give line numbers and quote the offending statement.
 * - Formats: `json` (the check/verify result shapes), `sarif` (2.1.0), `junit` (XML), `markdown` (GitHub), `html`
 *   (one self-contained page). Every string from the inputs is redacted before rendering (redact.ts).
 * - `loadResultFiles(paths, io)` reads result files for `oidc-guard report` (check, verify or merged, by shape).
 */
import { resolve } from "node:path";
import { checkFormat } from "../args.js";
import { CliError, EXIT, writeChunked, type CliIO } from "../io.js";
import { describeJsonProblem, parseJson } from "../check/json.js";
import { guardCiLog, type CiLogMedium } from "../escape.js";
import { ChunkError, writeOutputFile } from "../output.js";
import { DEFAULT_MAX_INPUT_BYTES, InputReadError, readTextFile } from "../read.js";
import type { CheckReport, VerifyBatchReport, VerifyReport } from "../results.js";
import { renderHtmlChunks } from "./html.js";
import { ResultShapeError, parseResultDocument } from "./input.js";
import { renderJson } from "./json.js";
import { renderJunitChunks } from "./junit.js";
import { MARKDOWN_MAX_KIB, renderMarkdown } from "./markdown.js";
import { buildModel, type ReportInput, type ReportModel } from "./model.js";
import { CODE_SCANNING_MAX_RESULTS, renderSarifChunks } from "./sarif.js";

export { buildModel, type ReportInput, type ReportModel, type ReportEntry, type ReportFinding, type EntryStatus } from "./model.js";
export { redactText, redactDeep } from "../redact.js";
export { parseResultDocument, ResultShapeError, type ParsedResult } from "./input.js";
export type { MergedReport } from "./json.js";

export type ReportFormat = "json" | "sarif" | "junit" | "markdown" | "html";
export const REPORT_FORMATS: readonly ReportFormat[] = ["json", "sarif", "junit", "markdown", "html"];

/**
 * Each format's renderer, as chunks. SARIF, JUnit and HTML can run to hundreds of megabytes (SARIF: 340 MB for
 * 100,000 roles) and are made a chunk at a time, so no string of the whole report is built (V8 strings stop at
 * 512 MiB); JSON and Markdown are one chunk.
 */
const RENDERERS: Record<ReportFormat, (model: ReportModel, options: RenderOptions) => Iterable<string>> = {
    json: (m) => [renderJson(m)],
    sarif: renderSarifChunks,
    junit: renderJunitChunks,
    markdown: (m, o) => [renderMarkdown(m, o.markdownBudget)],
    html: renderHtmlChunks,
};

/** The formats that quote each finding's statement (`ReportFinding.statement`). */
const QUOTES_STATEMENTS: ReadonlySet<ReportFormat> = new Set(["sarif", "markdown", "html"]);

/** How a format is rendered, where it has a choice. */
export interface RenderOptions {
    /** Markdown: the most bytes the text may take (default 900 KiB, for a GitHub step summary); see `renderMarkdown`. */
    markdownBudget?: number;
}

/** Renders `input` in `format`. Pure apart from reading the clock when `input.generatedAt` is absent. */
export function renderReport(format: ReportFormat, input: ReportInput | ReportModel, options: RenderOptions = {}): string {
    return [...renderReportChunks(format, input, options)].join("");
}

/** {@link renderReport} in chunks, each ending after text that is not a line's indentation (see `guardCiLog`). */
export function* renderReportChunks(format: ReportFormat, input: ReportInput | ReportModel, options: RenderOptions = {}): Generator<string> {
    const model = "entries" in input ? input : buildModel(input);
    // Values are escaped by each renderer for its medium; no line of any format may start a CI workflow command.
    const medium = CI_LOG_MEDIUM[format];
    for (const chunk of RENDERERS[format](model, options)) yield guardCiLog(chunk, medium);
}

/** What each format is, for the CI log guard's spelling of a `[` (`guardCiLog`). */
const CI_LOG_MEDIUM: Readonly<Record<ReportFormat, CiLogMedium>> = { json: "json", sarif: "json", junit: "xml", markdown: "markdown", html: "html" };

/**
 * Applies a `--markdown-max-kib` value (a whole number of KiB from 1 to {@link MARKDOWN_MAX_KIB}, or undefined when
 * not given) to the Markdown outputs among `outputs`, in bytes.
 * @throws CliError (exit 2) for a bad value, or for a value when no output is Markdown.
 */
export function applyMarkdownMaxKib(outputs: ReadonlyArray<{ format: string; markdownBudget?: number }>, value: string | boolean | undefined): void {
    if (value === undefined) return;
    const v = typeof value === "string" ? value.trim() : "";
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MARKDOWN_MAX_KIB) {
        throw new CliError(`--markdown-max-kib must be a whole number of KiB from 1 to ${MARKDOWN_MAX_KIB} (64 for a pull-request comment, 900 by default for a step summary)`, EXIT.usage);
    }
    const markdown = outputs.filter((o) => o.format === "markdown");
    if (markdown.length === 0) {
        throw new CliError("--markdown-max-kib limits Markdown output, and none is asked for\nhint: add --markdown <file> (or --format markdown)", EXIT.usage);
    }
    for (const o of markdown) o.markdownBudget = n * 1024;
}

/** `node:util` parseArgs options for the report flags. */
export const REPORT_FLAG_OPTIONS = {
    format: { type: "string", short: "f" },
    output: { type: "string", short: "o" },
    json: { type: "string" },
    sarif: { type: "string" },
    junit: { type: "string" },
    markdown: { type: "string" },
    html: { type: "string" },
    "markdown-max-kib": { type: "string" },
} as const;

/** One report to write: `path` is a file (relative to the working directory) or `-` for stdout. */
export interface ReportOutput {
    format: ReportFormat;
    path: string;
    /** Markdown: its size limit in bytes (`--markdown-max-kib`), when not the default. */
    markdownBudget?: number;
}

export interface ParsedReportFlags {
    /** Every report to write: the `--format`/`--output` pair first, then `--json`, `--sarif`, ... in that order. */
    outputs: ReportOutput[];
    /** Set when `--format` (or the default) is one of `otherFormats`: the command renders it itself to `path`. */
    other?: { format: string; path: string };
}

/**
 * Turns parsed flag values into outputs. `--format` defaults to `defaultFormat` (default `json`) and goes to
 * `--output` or stdout; `--<format> <file>` adds a report in that format; `-` as a file means stdout.
 * `command` names the command in the help hint of an unknown format (default `report`).
 * @throws CliError (exit 2) for an unknown format, an empty file name, `--output` given twice for the same file,
 *   or more than one report on stdout.
 */
export function parseReportFlags(
    values: Partial<Record<keyof typeof REPORT_FLAG_OPTIONS, string | boolean | undefined>>,
    options: { defaultFormat?: string; otherFormats?: readonly string[]; command?: string } = {},
): ParsedReportFlags {
    const other = options.otherFormats ?? [];
    const text = (name: string, v: string | boolean | undefined): string | undefined => {
        if (v === undefined) return undefined;
        if (typeof v !== "string" || v.trim() === "") {
            throw new CliError(`--${name} needs a file name (or '-' for stdout)`, EXIT.usage);
        }
        return v;
    };
    const format = text("format", values.format) ?? options.defaultFormat ?? "json";
    const outputPath = text("output", values.output) ?? "-";
    const result: ParsedReportFlags = { outputs: [] };
    if ((REPORT_FORMATS as readonly string[]).includes(format)) {
        // `--format` alone, or with --output: only when another flag did not already ask for files without it.
        const explicit = values.format !== undefined || values.output !== undefined;
        const anyFile = REPORT_FORMATS.some((f) => values[f] !== undefined);
        if (explicit || !anyFile) result.outputs.push({ format: format as ReportFormat, path: outputPath });
    } else if (other.includes(format)) {
        result.other = { format, path: outputPath };
    } else {
        checkFormat(options.command ?? "report", format, [...REPORT_FORMATS, ...other]);
    }
    for (const f of REPORT_FORMATS) {
        const path = text(f, values[f]);
        if (path !== undefined) result.outputs.push({ format: f, path });
    }
    const paths = [...result.outputs.map((o) => o.path), ...(result.other ? [result.other.path] : [])];
    if (paths.filter((p) => p === "-").length > 1) {
        throw new CliError("more than one report would go to stdout: give all but one of them a file name", EXIT.usage);
    }
    const files = paths.filter((p) => p !== "-").map((p) => resolve(p));
    const dup = files.find((p, i) => files.indexOf(p) !== i);
    if (dup !== undefined) throw new CliError(`two reports would be written to the same file '${dup}'`, EXIT.usage);
    applyMarkdownMaxKib(result.outputs, values["markdown-max-kib"]);
    return result;
}

/** Node's error code, for messages that say why without a stack trace. */
function reason(e: unknown): string {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? code : e instanceof Error ? e.message : String(e);
}

/**
 * Renders and writes every output (the model is built once). Regular files are replaced atomically (symbolic links
 * followed), devices and FIFOs written in place (output.ts), directories created as needed; `-` goes to `io.stdout`.
 * A SARIF log that GitHub code scanning would reject for its number of results is written all the same, with a
 * warning on stderr (`command` starts it, e.g. `oidc-guard check`).
 * @throws CliError (exit 2) naming the file when it cannot be written.
 */
export async function writeReports(outputs: readonly ReportOutput[], input: ReportInput | ReportModel, io: CliIO, command = "oidc-guard"): Promise<void> {
    if (outputs.length === 0) return;
    // Statements are quoted only for the formats that show them.
    const model = "entries" in input ? input : buildModel(input, { statements: outputs.some((o) => QUOTES_STATEMENTS.has(o.format)) });
    // SARIF holds one result per finding.
    const sarifResults = outputs.some((o) => o.format === "sarif") ? model.counts.findings : 0;
    if (sarifResults > CODE_SCANNING_MAX_RESULTS) {
        io.stderr.write(
            `${command}: warning: the SARIF log holds ${sarifResults} results in one run; GitHub code scanning rejects a run of more than ` +
                `${CODE_SCANNING_MAX_RESULTS} (and shows the 5,000 most severe): upload the inputs in parts, each with its own category\n`,
        );
    }
    for (const out of outputs) {
        if (out.path === "-") {
            await writeChunked(io.stdout, renderReportChunks(out.format, model, out));
            continue;
        }
        try {
            writeOutputFile(resolve(io.cwd, out.path), renderReportChunks(out.format, model, out));
        } catch (e) {
            // Rendering failed, not the file: the renderer's own error.
            if (e instanceof ChunkError) throw e.cause;
            throw new CliError(`cannot write the ${out.format} report to '${out.path}': ${reason(e)}`, EXIT.usage);
        }
    }
}

/** What `loadResultFiles` returns: a `ReportInput` plus notes for stderr. */
export interface LoadedResults {
    input: Required<Pick<ReportInput, "checks" | "verifications" | "sources" | "origins">>;
    /** Human-readable notes (e.g. a checked file that could not be read for line numbers). */
    notes: string[];
}

/**
 * Reads result files (check, verify or merged reports, detected by shape) and the files the checks read (relative to
 * `sourceRoot`, default the working directory) for line numbers.
 * @throws CliError (exit 2) naming the file: unreadable, not JSON, or neither a check nor a verify result.
 */
export function loadResultFiles(
    paths: readonly string[],
    io: CliIO,
    sourceRoot = io.cwd,
    maxBytes = DEFAULT_MAX_INPUT_BYTES,
): LoadedResults {
    const checks: CheckReport[] = [];
    const verifications: (VerifyReport | VerifyBatchReport)[] = [];
    const origins = new Map<CheckReport | VerifyReport | VerifyBatchReport, string>();
    for (const p of paths) {
        const full = resolve(io.cwd, p);
        let text: string;
        try {
            // The limit is counted while reading (stat says 0 for /dev/zero and FIFOs).
            text = readTextFile(full, maxBytes);
        } catch (e) {
            if (e instanceof InputReadError && e.reason === "too-large") {
                // A check of 100,000 roles writes about 300 MB of JSON: past the default limit, and meant to be read.
                throw new CliError(`result file '${p}' is ${e.message}\nhint: if it is the file you meant, raise the limit with --max-input-mib <n> (up to 4096)`, EXIT.usage);
            }
            if (e instanceof InputReadError && e.reason !== "io") throw new CliError(`result file '${p}' is ${e.message}`, EXIT.usage);
            throw new CliError(`cannot read result file '${p}': ${reason(e)}`, EXIT.usage);
        }
        const json = parseJson(text);
        if (!json.ok) throw new CliError(`result file '${p}' is not JSON: ${describeJsonProblem(json.problem)}`, EXIT.usage);
        const doc = json.value;
        let parsed;
        try {
            parsed = parseResultDocument(doc);
        } catch (e) {
            if (e instanceof ResultShapeError) throw new CliError(`result file '${p}': ${e.message}`, EXIT.usage);
            throw e;
        }
        for (const r of parsed) {
            if (r.kind === "check") checks.push(r.report);
            else verifications.push(r.report);
            origins.set(r.report, p);
        }
    }
    const sources = new Map<string, string>();
    const notes: string[] = [];
    const wanted = new Set(checks.flatMap((c) => c.results.map((r) => r.target.file)));
    for (const file of wanted) {
        const full = resolve(sourceRoot, file);
        try {
            sources.set(file, readTextFile(full, maxBytes));
        } catch (e) {
            const why = e instanceof InputReadError && e.reason !== "io" ? e.message : reason(e);
            notes.push(`cannot read checked file '${file}' (${why}): its locations fall back to line 1`);
        }
    }
    return { input: { checks, verifications, sources, origins }, notes };
}
