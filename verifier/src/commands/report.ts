/**
 * `oidc-guard report <result.json>...`: merges check and verify results (from many stacks and environments) into
 * one compliance report in any of the formats. Exit 0 when every target passed or verified, 1 otherwise (also when
 * the inputs hold no target at all), 2 on usage or input errors.
 */
import { resolve } from "node:path";
import { parseCommandArgs } from "../args.js";
import { docsUrl } from "../docs.js";
import { CliError, EXIT, type CliIO } from "../io.js";
import { realPathOf } from "../output.js";
import { parseMaxInputMib } from "../read.js";
import { REPORT_FLAG_OPTIONS, REPORT_FORMATS, buildModel, loadResultFiles, parseReportFlags, writeReports } from "../report/index.js";
import { textLine } from "../escape.js";

const HELP = `Usage: oidc-guard report <result.json>... [options]

Merges results of 'oidc-guard check --format json' and 'oidc-guard verify --format json' (any number, any mix;
each file is recognised by its shape) into one compliance report.

Options:
  -f, --format <fmt>     Format for stdout or --output: ${REPORT_FORMATS.join(", ")} (default: markdown)
  -o, --output <file>    Write the --format report to <file> instead of stdout
      --json <file>      Also write JSON (a check result, a verify result, or both merged)
      --sarif <file>     Also write SARIF 2.1.0 (for code scanning)
      --junit <file>     Also write JUnit XML (for CI test reporters)
      --markdown <file>  Also write Markdown (for $GITHUB_STEP_SUMMARY or a PR comment)
      --html <file>      Also write a self-contained HTML page
      --markdown-max-kib <n>  Keep the Markdown within <n> KiB (default 900, for a GitHub step summary; 64 for a
                         pull-request comment); what does not fit is left out with a note
      --source-root <dir>  Where the checked files are, for line numbers (default: the working directory)
      --max-input-mib <n>  Refuse a result or source file larger than <n> MiB (default 256), counted while reading
  -h, --help             Show this help

A file name of '-' means stdout (at most one report can go there). With only --<format> flags, nothing is
printed to stdout.

Exit codes:
  0  every role passed and every environment verified
  1  something failed, errored, is unknown (preview), or the inputs hold no role and no environment
  2  usage error, or a result file that cannot be read, is not JSON, or is neither a check nor a verify result
  70 internal error (a bug in oidc-guard; OIDC_GUARD_DEBUG=1 prints the stack trace)

Examples:
  oidc-guard report results/*.json >> "$GITHUB_STEP_SUMMARY"
  oidc-guard report check-*.json verify-*.json --sarif oidc.sarif --junit oidc.xml --html oidc.html

Documentation: ${docsUrl("report.md")}
`;

/** The options of `report`: the shared report flags, then its own. */
const OPTIONS = { ...REPORT_FLAG_OPTIONS, "source-root": { type: "string" }, "max-input-mib": { type: "string" }, help: { type: "boolean", short: "h" } } as const;

/** Runs `oidc-guard report`; returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
    await Promise.resolve();
    return run(argv, io);
}

async function run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs("report", argv, OPTIONS);
    if (values.help) {
        io.stdout.write(HELP);
        return EXIT.ok;
    }
    if (positionals.length === 0) {
        throw new CliError("no result files given\nhint: oidc-guard report <result.json>... (from 'oidc-guard check --format json' or 'oidc-guard verify --format json')", EXIT.usage);
    }
    const flags = parseReportFlags(values, { defaultFormat: "markdown", command: "report" });
    const root = values["source-root"];
    const inputs = new Set(positionals.map((p) => realPathOf(resolve(io.cwd, p))));
    const clash = flags.outputs.find((o) => o.path !== "-" && inputs.has(realPathOf(resolve(io.cwd, o.path))));
    if (clash) {
        throw new CliError(`${clash.path} is both a result file to read and a report output: it would be overwritten\nhint: write the report to another file`, EXIT.usage);
    }
    const maxBytes = values["max-input-mib"] === undefined ? undefined : parseMaxInputMib(values["max-input-mib"]);
    const { input, notes } = loadResultFiles(positionals, io, root === undefined ? io.cwd : resolve(io.cwd, root), maxBytes);
    for (const n of notes) io.stderr.write(textLine(`oidc-guard report: note: ${n}`));
    const model = buildModel(input);
    await writeReports(flags.outputs, model, io, "oidc-guard report");
    const { status } = model.counts;
    const written = flags.outputs.filter((o) => o.path !== "-").map((o) => o.path);
    io.stderr.write(
        textLine(
            `oidc-guard report: ${model.entries.length} target(s) from ${positionals.length} file(s): ${status.pass} pass, ${status.fail} fail, ${status.unknown} unknown, ${status.error} error` +
                `${written.length > 0 ? `; wrote ${written.join(", ")}` : ""}`,
        ),
    );
    if (model.entries.length === 0) io.stderr.write("oidc-guard report: the inputs hold no role and no environment: nothing was checked\n");
    return model.passed ? EXIT.ok : EXIT.failed;
}
