/**
 * `oidc-guard check <path>...`: checks IAM role trust policies (bare documents, `pulumi stack export`,
 * `pulumi preview --json`, AWS CLI listings) for Pulumi OIDC pinning of both `aud` and `sub`.
 * Exit 0: every target passes; 1: a target fails, is unknown or is malformed; 2: usage error or an input file
 * that cannot be read or parsed.
 */
import { resolve } from "node:path";
import type { AnalysisOptions, Verdict } from "oidc-guard-policypack/analysis";
import { helpHint, parseCommandArgs, wholeNumberOption } from "../args.js";
import { docsUrl } from "../docs.js";
import { runCheck, streamCheck, type CheckRun } from "../check/analyze.js";
import { parallelStage, parallelTextStage, type ParallelConfig, type ParallelStats } from "../check/parallel.js";
import { expandPaths, showPath, type InputFile, type SkippedFile } from "../check/files.js";
import { readStdin } from "../check/stdin.js";
import {
    MAX_TIME_BUDGET_MS,
    buildOptions,
    errnoMessage,
    parseTimeBudget,
    readConfigFile,
    type ConfigSettings,
} from "../check/options.js";
import { parseMaxInputMib } from "../read.js";
import { RESULTS_DEPTH, renderJsonChunks, renderJsonStream, renderTextChunks, summaryText, TextReport, useColour } from "../check/render.js";
import type { OutputChunk, RenderedItems } from "../chunks.js";
import { CliError, DEBUG_ENV, EXIT, writeChunked, type CliIO } from "../io.js";
import { ChunkError, writeOutputFile } from "../output.js";
import { REPORT_FLAG_OPTIONS, parseReportFlags, writeReports, type ReportInput, type ReportOutput } from "../report/index.js";
import type { CheckReport, CheckResult } from "../results.js";
import { toolInfo } from "../version.js";
import { textLine } from "../escape.js";

/** The help text. */
export const USAGE = `Usage: oidc-guard check <path>... [options]

Checks that IAM roles trusting Pulumi Cloud's OIDC issuer (api.pulumi.com/oidc) pin both
api.pulumi.com/oidc:aud and api.pulumi.com/oidc:sub.

Each <path> is a file, '-' for one document on standard input (shown as <stdin>), or a directory
(searched recursively for *.json, and for *.yaml/*.yml/*.template files that are CloudFormation
templates; *.expected.json and cdk.out metadata left out).
Inputs are recognized by content: an IAM trust policy document (or a JSON string holding one),
'pulumi stack export', 'pulumi preview --json', a CloudFormation template (JSON or YAML with
short-form tags such as !Ref and !Sub; a 'cdk synth' cdk.out folder), 'terraform show -json'
of a plan or of state, 'aws iam get-role', 'aws iam list-roles',
'aws iam get-account-authorization-details' or 'aws iam get-open-id-connect-provider' output.
Terraform source (.tf) is not read: check 'terraform show -json plan.tfplan > plan.json'.
To check a live account, use 'oidc-guard scan aws'.

Options:
  --org <name>             Pulumi organization whose tokens may get in (repeatable)
  --issuer <host/path>     Issuer to treat as Pulumi's, e.g. pulumi.example.com/oidc (repeatable;
                           replaces the defaults api.pulumi.com/oidc and api.pulumi.com/oidc/v2)
  --allow-subject <glob>   Allowed subject pattern, StringLike syntax (repeatable; replaces the default scope)
  --audience <aud>         Allowed audience (repeatable; replaces the ones derived from --org)
  --subject-scope <scope>  project (default): every environment or stack of one named project passes,
                           reported as advisory; environment: only named environments or stacks pass
  --config <file>          Pulumi --policy-pack-config file; the flags above add to its settings
  --time-budget-ms <ms>    Time budget per trust policy (default 2000; also the config's timeBudgetMs);
                           a policy not decided within it gets verdict error
  --max-input-mib <n>      Refuse an input file larger than <n> MiB (default 256), counted while reading
  --threads <n>            Check with at most <n> threads (default: two, where two CPUs may be used, for an
                           input of 25,000 roles or more; 1: one thread, no worker; more than 2 is 2)
  --format <fmt>           text (default), json, sarif, junit, markdown or html
  --output <file>          Write the --format report to <file> instead of standard output
  --json|--sarif|--junit|--markdown|--html <file>
                           Also write a report in that format to <file> ('-' for standard output);
                           several can be given in one run
  --markdown-max-kib <n>   Keep the Markdown within <n> KiB (default 900, for a GitHub step summary; 64 for
                           a pull-request comment); what does not fit is left out with a note
  -h, --help               Show this help

Exit codes:
  0  every target passes
  1  at least one target fails, cannot be decided (unknown at preview, encrypted secret) or is malformed
  2  usage error, or an input or config file that cannot be read or parsed (not JSON, broken YAML
     template, Terraform source)
  70 internal error (a bug in oidc-guard; OIDC_GUARD_DEBUG=1 prints the stack trace)

Examples:
  oidc-guard check policy.json --org acme
  pulumi stack export --show-secrets > stack.json && oidc-guard check stack.json --org acme
  pulumi preview --json > preview.json && oidc-guard check preview.json --format json
  aws iam get-role --role-name deploy | oidc-guard check - --org acme
  cdk synth && oidc-guard check cdk.out template.yaml --org acme
  terraform plan -out plan.tfplan && terraform show -json plan.tfplan > plan.json
  oidc-guard check plan.json --org acme
  aws iam get-account-authorization-details --filter Role --output json > roles.json
  oidc-guard check roles.json --config policy-config.json --output check-result.json --format json

Documentation: ${docsUrl("check.md")}
`;

const HINT = helpHint("check");

interface ParsedArgs {
    paths: string[];
    /** The text table, when asked for (the default), and the file it goes to (stdout when absent). */
    text?: { output?: string };
    /** Reports rendered by the shared report library (SARIF, JUnit, Markdown, HTML, merged JSON). */
    reports: ReportOutput[];
    config?: string;
    orgs: string[];
    issuers: string[];
    allowSubjects: string[];
    audiences: string[];
    timeBudgetMs?: number;
    maxInputBytes?: number;
    subjectScope?: string;
    /** `--threads`: at most this many threads check a large input. */
    threads?: number;
    help: boolean;
}

/** The options of `check` (the report flags come from the shared report library). */
const OPTIONS = {
    org: { type: "string", multiple: true },
    issuer: { type: "string", multiple: true },
    "allow-subject": { type: "string", multiple: true },
    audience: { type: "string", multiple: true },
    "subject-scope": { type: "string" },
    config: { type: "string" },
    "time-budget-ms": { type: "string" },
    "max-input-mib": { type: "string" },
    threads: { type: "string" },
    ...REPORT_FLAG_OPTIONS,
    help: { type: "boolean", short: "h" },
} as const;

/** Parses the command line strictly; every problem is a {@link CliError} with exit code 2. */
export function parseCheckArgs(argv: string[]): ParsedArgs {
    const { values, positionals } = parseCommandArgs("check", argv, OPTIONS);
    let timeBudgetMs: number | undefined;
    if (values["time-budget-ms"] !== undefined) {
        timeBudgetMs = parseTimeBudget(values["time-budget-ms"]);
        if (timeBudgetMs === undefined) {
            throw new CliError(`--time-budget-ms must be a whole number of milliseconds from 1 to ${MAX_TIME_BUDGET_MS}\n${HINT}`, EXIT.usage);
        }
    }
    const maxInputBytes = values["max-input-mib"] === undefined ? undefined : parseMaxInputMib(values["max-input-mib"]);
    const threads = values.threads === undefined ? undefined : wholeNumberOption("check", "threads", values.threads, 1, MAX_THREADS, " (1: check in one thread)");
    // The text table is rendered here; JSON, SARIF, JUnit, Markdown and HTML by the shared report library.
    return {
        paths: positionals,
        ...analysisAndOutputFlags(values, "check"),
        ...(timeBudgetMs !== undefined ? { timeBudgetMs } : {}),
        ...(maxInputBytes !== undefined ? { maxInputBytes } : {}),
        ...(threads !== undefined ? { threads } : {}),
        ...(values["subject-scope"] !== undefined ? { subjectScope: values["subject-scope"] } : {}),
        help: values.help === true,
    };
}

/** The most threads `--threads` may name (any more than two is two: check uses one worker thread at most). */
const MAX_THREADS = 1024;

/** The flag values `check` and `scan aws` share: the analysis settings and where the reports go. */
export interface AnalysisFlagValues extends Partial<Record<keyof typeof REPORT_FLAG_OPTIONS, string | boolean | undefined>> {
    org?: string[];
    issuer?: string[];
    "allow-subject"?: string[];
    audience?: string[];
    config?: string;
}

/** Reads the flags `check` and `scan aws` share (the text table is rendered by the command, the rest by the report library). */
export function analysisAndOutputFlags(
    values: AnalysisFlagValues,
    command: string,
): CheckOutputs & Pick<ParsedArgs, "config" | "orgs" | "issuers" | "allowSubjects" | "audiences"> {
    const flags = parseReportFlags(values, { defaultFormat: "text", otherFormats: ["text"], command });
    const text = flags.other ? (flags.other.path === "-" ? {} : { output: flags.other.path }) : undefined;
    return {
        ...(text ? { text } : {}),
        reports: flags.outputs,
        config: values.config,
        orgs: values.org ?? [],
        issuers: values.issuer ?? [],
        allowSubjects: values["allow-subject"] ?? [],
        audiences: values.audience ?? [],
    };
}

function writeOwnFile(path: string, shown: string, text: string | Iterable<OutputChunk>): void {
    try {
        writeOutputFile(path, text);
    } catch (e) {
        // Rendering failed, not the file: the renderer's own error.
        if (e instanceof ChunkError) throw e.cause;
        throw new CliError(`${shown}: cannot write: ${errnoMessage(e)}`, EXIT.usage);
    }
}

/** Runs `oidc-guard check`. Returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
    await Promise.resolve();
    const args = parseCheckArgs(argv);
    if (args.help) {
        io.stdout.write(USAGE);
        return EXIT.ok;
    }
    if (args.paths.length === 0) {
        throw new CliError(`no input paths given\n${HINT}`, EXIT.usage);
    }

    let config: ConfigSettings | undefined;
    if (args.config !== undefined) {
        config = readConfigFile(resolve(io.cwd, args.config), args.config);
        for (const w of config.warnings) io.stderr.write(textLine(`oidc-guard check: warning: ${w}`));
    }
    const options = buildOptions(config, args);
    const outputs = [...args.reports.map((r) => r.path), ...(args.text?.output !== undefined ? [args.text.output] : [])]
        .filter((p) => p !== "-")
        .map((p) => resolve(io.cwd, p));
    const walkSkipped: SkippedFile[] = [];
    const files = expandPaths(args.paths, io.cwd, outputs, walkSkipped);
    for (const s of walkSkipped) io.stderr.write(textLine(`oidc-guard check: skipped ${s.file}: ${s.reason}`));
    if (files.length === 0) {
        throw new CliError("no input files left to check (report output files are not inputs)", EXIT.usage);
    }
    for (const f of files) if (f.path === "-") f.text = await readStdin(io.stdin);

    const limits = args.maxInputBytes !== undefined ? { maxInputBytes: args.maxInputBytes } : {};
    // One JSON report and nothing else: each result is written as it is made and let go.
    const only = args.reports.length === 1 && args.text === undefined && args.reports[0]!.format === "json" ? args.reports[0] : undefined;
    // A large input's roles are shared with a worker thread, unless --threads 1.
    const parallel: Partial<ParallelConfig> = args.threads !== undefined ? { threads: args.threads } : {};
    if (only !== undefined) return streamJsonReport(files, options, limits, parallel, only.path, io);
    // The text report and nothing else (the default): each result is collected into its table and details, and let go.
    if (args.reports.length === 0 && args.text !== undefined) return streamTextReport(files, options, limits, parallel, args.text, walkSkipped, io);

    const run = runCheck(files, options, { ...limits, keepSources: args.reports.some((r) => r.format !== "json") });
    reportFiles(run, io);
    const skipped = [...walkSkipped, ...skippedOf(run)];

    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of run.results) summary[r.verdict]++;
    const report: CheckReport = { tool: toolInfo(), results: run.results, summary };

    const code = exitCode(run.fileProblems.length, summary);
    if (run.results.length === 0) {
        // Only earlier check-result files were found: nothing was checked, which must not look like a pass.
        throw new CliError(NO_INPUTS, EXIT.usage);
    }

    await writeCheckOutputs(report, { sources: run.sources, validJson: run.validJson }, { count: run.files.length, unit: "file", skipped }, args, io, "check");
    return code;
}

const VERDICTS: readonly Verdict[] = ["pass", "fail", "unknown", "error"];

const NO_INPUTS =
    "no inputs to check: every file found is an oidc-guard check result, cdk.out metadata or a YAML file that is not a CloudFormation template";

/** Why a YAML file a directory walk found was not checked. */
const NOT_A_TEMPLATE = "YAML that is not a CloudFormation template (no top-level Resources map of typed resources)";

/**
 * The files a run skipped: those it names itself (an earlier result file), and the `*.yaml`/`*.yml`/`*.template`
 * files a directory walk found that are not CloudFormation templates (Pulumi.yaml, CI configuration), which the run
 * only counts as `skipped`: none is left out without its name.
 */
function skippedOf(run: Pick<CheckRun, "skipped" | "files">): SkippedFile[] {
    const skipped = [...run.skipped];
    for (const f of run.files) if (f.kind === "skipped") skipped.push({ file: f.file, reason: NOT_A_TEMPLATE });
    return skipped;
}

/** Names on stderr the files a run skipped and those it could not read (each also has an `error` result). */
function reportFiles(run: Pick<CheckRun, "skipped" | "files" | "fileProblems">, io: CliIO): void {
    for (const s of skippedOf(run)) io.stderr.write(textLine(`oidc-guard check: skipped ${s.file}: ${s.reason}`));
    for (const p of run.fileProblems) io.stderr.write(textLine(`oidc-guard check: ${p.file}: ${p.message}`));
}

/** The stderr line for a report written to a file: `oidc-guard check: wrote out.json (6 results: 4 pass, ...)`. */
function wroteLine(command: string, path: string, io: CliIO, results: number, summary: Record<Verdict, number>): string {
    return textLine(`oidc-guard ${command}: wrote ${showPath(resolve(io.cwd, path), io.cwd)} (${results} results: ${summaryText(summary)})`);
}

/** The exit code of a run: a file that could not be read is a usage error; any verdict but pass fails the run. */
function exitCode(fileProblems: number, summary: Record<Verdict, number>): number {
    return fileProblems > 0 ? EXIT.usage : summary.fail + summary.unknown + summary.error > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * `check` writing the text report alone (stdout or `output`), the same text as {@link writeCheckOutputs} writes: its
 * table's widths are known only once every result is in, so each result is collected as its table cells and its
 * details (as bytes) and let go ({@link TextReport}), not held whole until the end.
 */
async function streamTextReport(
    files: InputFile[],
    options: AnalysisOptions,
    limits: { maxInputBytes?: number },
    parallel: Partial<ParallelConfig>,
    text: { output?: string },
    walkSkipped: readonly SkippedFile[],
    io: CliIO,
): Promise<number> {
    const path = text.output;
    const colour = useColour(path !== undefined ? { isTTY: false } : io.stdout, io.env);
    // A large input's roles are shared with a worker thread, which sends its results as the report's parts.
    const shared: ParallelStats = { blocks: 0, worker: 0, early: 0, counted: 0 };
    // Roles of a template's kind seen before come as its pieces' results (prerender.ts), written from text pieces.
    const templated = { depth: RESULTS_DEPTH };
    const { run, results } = streamCheck(files, options, { ...limits, keepSources: false, templated }, parallelTextStage(options, colour, parallel, shared));
    const report = new TextReport(colour);
    const byWorker = report.addAll(results);
    reportFiles(run, io);
    debugParallel(io, shared, byWorker, report.count);
    // Only earlier check-result files were found: nothing was checked, which must not look like a pass.
    if (report.count === 0) throw new CliError(NO_INPUTS, EXIT.usage);
    const chunks = report.chunks(run.files.length, [...walkSkipped, ...skippedOf(run)], "file");
    if (path === undefined) await writeChunked(io.stdout, chunks);
    else {
        writeOwnFile(resolve(io.cwd, path), path, chunks);
        io.stderr.write(wroteLine("check", path, io, report.count, report.summary));
    }
    return exitCode(run.fileProblems.length, report.summary);
}

/**
 * `check` writing one JSON report (stdout or `path`), the same bytes as {@link writeCheckOutputs} writes, while it
 * checks: each result is written in the batch it is made in and let go, so a run of 100,000 roles never holds them
 * all (they were what the garbage collector copied most, and a third of the peak memory). Nothing is written before
 * the first result (a run with none is an error, not an empty report); the files skipped and the files that could
 * not be read are named on stderr after the report. A reader that goes away (`| head`) stops the writing, not the
 * check: the exit code counts every result.
 */
async function streamJsonReport(
    files: InputFile[],
    options: AnalysisOptions,
    limits: { maxInputBytes?: number },
    parallel: Partial<ParallelConfig>,
    path: string,
    io: CliIO,
): Promise<number> {
    // A large input's roles are shared with a worker thread, which sends its results as the report's bytes.
    const shared: ParallelStats = { blocks: 0, worker: 0, early: 0, counted: 0 };
    const { run, results } = streamCheck(files, options, { ...limits, keepSources: false, templated: { depth: RESULTS_DEPTH } }, parallelStage(options, parallel, shared));
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    let count = 0;
    let byWorker = 0;
    let next = results.next();
    if (next.done === true) {
        reportFiles(run, io);
        throw new CliError(NO_INPUTS, EXIT.usage);
    }
    // An iterator without `return`: the writer stopping early (a closed stdout) must not close the check, which
    // goes on below so that the exit code counts every result.
    const counted: Iterator<CheckResult | RenderedItems> = {
        next: (): IteratorResult<CheckResult | RenderedItems> => {
            if (next.done === true) return { done: true, value: undefined };
            const r = next.value;
            next = results.next();
            if ("rendered" in r) {
                for (const v of VERDICTS) summary[v] += r.verdicts[v];
                count += r.roles;
                if (r.worker) byWorker += r.roles;
                return { done: false, value: r.rendered };
            }
            summary[r.verdict]++;
            count++;
            return { done: false, value: r };
        },
    };
    const chunks = renderJsonStream(toolInfo(), { [Symbol.iterator]: () => counted }, () => summary);
    if (path === "-") await writeChunked(io.stdout, chunks);
    else writeOwnFile(resolve(io.cwd, path), path, chunks);
    while (counted.next().done !== true);
    reportFiles(run, io);
    debugParallel(io, shared, byWorker, count);
    if (path !== "-") io.stderr.write(wroteLine("check", path, io, count, summary));
    return exitCode(run.fileProblems.length, summary);
}

/** With OIDC_GUARD_DEBUG=1, says on stderr how a worker thread shared the work (`byWorker` of `count` results). */
function debugParallel(io: CliIO, shared: ParallelStats, byWorker: number, count: number): void {
    if (io.env[DEBUG_ENV] !== "1") return;
    if (shared.counted > 0) io.stderr.write(`oidc-guard check: a worker thread counted the JSON member marks of ${shared.counted} file(s)\n`);
    if (shared.blocks > 0) {
        io.stderr.write(
            `oidc-guard check: a worker thread checked ${byWorker} of ${count} results ` +
                `(${shared.worker} of ${shared.blocks} blocks; this thread checked ${shared.early} blocks ahead of their turn)\n`,
        );
    }
}

/** Where `check` and `scan aws` write their report: the text table and the report flags. */
export interface CheckOutputs {
    text?: { output?: string };
    reports: ReportOutput[];
}

/**
 * Writes a check report as the flags ask: the text table (stdout or `--output`), JSON (the CheckReport itself),
 * and SARIF/JUnit/Markdown/HTML through the shared report library; says on stderr which files were written.
 * `files`: the texts of the files checked (for line numbers) and which of them are JSON as written.
 */
export async function writeCheckOutputs(
    report: CheckReport,
    files: Pick<ReportInput, "sources" | "validJson">,
    scope: { count: number; unit: string; skipped?: readonly SkippedFile[] },
    args: CheckOutputs,
    io: CliIO,
    command: string,
): Promise<void> {
    const summary = report.summary;
    if (args.text) {
        const textPath = args.text.output !== undefined ? resolve(io.cwd, args.text.output) : undefined;
        const target = textPath !== undefined ? { isTTY: false } : io.stdout;
        const rendered = renderTextChunks(report, useColour(target, io.env), scope.count, scope.skipped ?? [], scope.unit);
        if (textPath !== undefined) {
            writeOwnFile(textPath, args.text.output ?? "", rendered);
        } else {
            await writeChunked(io.stdout, rendered);
        }
    }
    // JSON of one check run is the CheckReport itself: rendered here, without the report model (which locates
    // every finding in the source files for SARIF and the others).
    for (const out of args.reports.filter((r) => r.format === "json")) {
        if (out.path !== "-") writeOwnFile(resolve(io.cwd, out.path), out.path, renderJsonChunks(report));
        else await writeChunked(io.stdout, renderJsonChunks(report));
    }
    await writeReports(
        args.reports.filter((r) => r.format !== "json"),
        { checks: [report], ...files },
        io,
        `oidc-guard ${command}`,
    );
    const written = [...args.reports.map((r) => r.path), ...(args.text?.output !== undefined ? [args.text.output] : [])];
    for (const path of written.filter((p) => p !== "-")) io.stderr.write(wroteLine(command, path, io, report.results.length, summary));
}
