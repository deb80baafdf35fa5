/**
 * `oidc-guard check <path>...`: checks IAM role trust policies (bare documents, `pulumi stack export`,
 * `pulumi preview --json`, AWS CLI listings) for Pulumi OIDC pinning of both `aud` and `sub`.
 * Exit 0: every target passes; 1: a target fails, is unknown or is malformed; 2: usage error or an input file
 * that cannot be read or parsed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { runCheck } from "../check/analyze.js";
import { expandPaths, showPath } from "../check/files.js";
import { buildOptions, errnoMessage, readConfigFile, type ConfigSettings } from "../check/options.js";
import { renderJson, renderText, useColour } from "../check/render.js";
import { CliError, EXIT, type CliIO } from "../io.js";
import { REPORT_FLAG_OPTIONS, parseReportFlags, writeReports, type ReportOutput } from "../report/index.js";
import type { CheckReport } from "../results.js";
import { toolInfo } from "../version.js";

/** The help text. */
export const USAGE = `Usage: oidc-guard check <path>... [options]

Checks that IAM roles trusting Pulumi Cloud's OIDC issuer (api.pulumi.com/oidc) pin both
api.pulumi.com/oidc:aud and api.pulumi.com/oidc:sub.

Each <path> is a JSON file or a directory (searched recursively for *.json, *.expected.json left out).
Inputs are recognized by content: an IAM trust policy document (or a JSON string holding one),
'pulumi stack export', 'pulumi preview --json', 'aws iam get-role', 'aws iam list-roles',
'aws iam get-account-authorization-details' or 'aws iam get-open-id-connect-provider' output.

Options:
  --org <name>             Pulumi organization whose tokens may get in (repeatable)
  --issuer <host/path>     Issuer to treat as Pulumi's, e.g. pulumi.example.com/oidc (repeatable;
                           replaces the defaults api.pulumi.com/oidc and api.pulumi.com/oidc/v2)
  --allow-subject <glob>   Allowed subject pattern, StringLike syntax (repeatable; replaces the default scope)
  --audience <aud>         Allowed audience (repeatable; replaces the ones derived from --org)
  --subject-scope <scope>  project (default): every environment or stack of one named project passes,
                           reported as advisory; environment: only named environments or stacks pass
  --config <file>          Pulumi --policy-pack-config file; the flags above add to its settings
  --format <fmt>           text (default), json, sarif, junit, markdown or html
  --output <file>          Write the --format report to <file> instead of standard output
  --json|--sarif|--junit|--markdown|--html <file>
                           Also write a report in that format to <file> ('-' for standard output);
                           several can be given in one run
  -h, --help               Show this help

Exit codes:
  0  every target passes
  1  at least one target fails, cannot be decided (unknown at preview, encrypted secret) or is malformed
  2  usage error, or an input or config file that cannot be read or is not valid JSON

Examples:
  oidc-guard check policy.json --org acme
  pulumi stack export --show-secrets > stack.json && oidc-guard check stack.json --org acme
  pulumi preview --json > preview.json && oidc-guard check preview.json --format json
  aws iam get-account-authorization-details --filter Role --output json > roles.json
  oidc-guard check roles.json --config policy-config.json --output check-result.json --format json
`;

const HINT = "hint: run 'oidc-guard check --help' for the options";

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
    subjectScope?: string;
    help: boolean;
}

/** Parses the command line strictly; every problem is a {@link CliError} with exit code 2. */
export function parseCheckArgs(argv: string[]): ParsedArgs {
    let values;
    let positionals: string[];
    try {
        ({ values, positionals } = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                org: { type: "string", multiple: true },
                issuer: { type: "string", multiple: true },
                "allow-subject": { type: "string", multiple: true },
                audience: { type: "string", multiple: true },
                "subject-scope": { type: "string" },
                config: { type: "string" },
                ...REPORT_FLAG_OPTIONS,
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (e) {
        throw new CliError(`${parseArgsMessage(e)}\n${HINT}`, EXIT.usage);
    }
    if (values.config !== undefined && values.config.trim() === "") {
        throw new CliError("--config needs a file name", EXIT.usage);
    }
    // The text table is rendered here; JSON, SARIF, JUnit, Markdown and HTML by the shared report library.
    const flags = parseReportFlags(values, { defaultFormat: "text", otherFormats: ["text"] });
    const text = flags.other ? (flags.other.path === "-" ? {} : { output: flags.other.path }) : undefined;
    return {
        paths: positionals,
        ...(text ? { text } : {}),
        reports: flags.outputs,
        config: values.config,
        orgs: values.org ?? [],
        issuers: values.issuer ?? [],
        allowSubjects: values["allow-subject"] ?? [],
        audiences: values.audience ?? [],
        ...(values["subject-scope"] !== undefined ? { subjectScope: values["subject-scope"] } : {}),
        help: values.help === true,
    };
}

/** Node's parseArgs messages, shortened and without its advice about `--` (which fits no flag here). */
function parseArgsMessage(e: unknown): string {
    const code = typeof e === "object" && e !== null && "code" in e ? (e).code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
        const m = /Unknown option '([^']+)'/.exec(message);
        return `unknown option '${m?.[1] ?? "?"}'`;
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
        const m = /Option '([^']+)'/.exec(message);
        return m ? `option '${m[1]}' needs a value` : message.split("\n")[0]!;
    }
    return message.split("\n")[0]!;
}

function writeOwnFile(path: string, shown: string, text: string): void {
    try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text);
    } catch (e) {
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
        for (const w of config.warnings) io.stderr.write(`oidc-guard check: warning: ${w}\n`);
    }
    const options = buildOptions(config, args);
    const outputs = [...args.reports.map((r) => r.path), ...(args.text?.output !== undefined ? [args.text.output] : [])]
        .filter((p) => p !== "-")
        .map((p) => resolve(io.cwd, p));
    const files = expandPaths(args.paths, io.cwd, outputs);
    if (files.length === 0) {
        throw new CliError("no input files left to check (report output files are not inputs)", EXIT.usage);
    }

    const run = runCheck(files, options);
    for (const p of run.fileProblems) io.stderr.write(`oidc-guard check: ${p.file}: ${p.message}\n`);

    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of run.results) summary[r.verdict]++;
    const report: CheckReport = { tool: toolInfo(), results: run.results, summary };

    const code =
        run.fileProblems.length > 0
            ? EXIT.usage
            : summary.fail + summary.unknown + summary.error > 0
              ? EXIT.failed
              : EXIT.ok;
    if (run.results.length === 0) {
        // Only earlier check-result files were found: nothing was checked, which must not look like a pass.
        throw new CliError("no inputs to check: every file found is an oidc-guard check result", EXIT.usage);
    }

    if (args.text) {
        const textPath = args.text.output !== undefined ? resolve(io.cwd, args.text.output) : undefined;
        const target = textPath !== undefined ? { isTTY: false } : io.stdout;
        const rendered = renderText(report, useColour(target, io.env), run.files.length);
        if (textPath !== undefined) {
            writeOwnFile(textPath, args.text.output ?? "", rendered);
        } else {
            io.stdout.write(rendered);
        }
    }
    // JSON of one check run is the CheckReport itself: rendered here, without the report model (which locates
    // every finding in the source files for SARIF and the others).
    for (const out of args.reports.filter((r) => r.format === "json")) {
        if (out.path === "-") io.stdout.write(renderJson(report));
        else writeOwnFile(resolve(io.cwd, out.path), out.path, renderJson(report));
    }
    writeReports(
        args.reports.filter((r) => r.format !== "json"),
        { checks: [report], sources: run.sources },
        io,
    );
    const written = [...args.reports.map((r) => r.path), ...(args.text?.output !== undefined ? [args.text.output] : [])];
    for (const path of written.filter((p) => p !== "-")) {
        io.stderr.write(
            `oidc-guard check: wrote ${showPath(resolve(io.cwd, path), io.cwd)} (${run.results.length} results: ` +
                `${summary.pass} pass, ${summary.fail} fail, ${summary.unknown} unknown, ${summary.error} error)\n`,
        );
    }
    return code;
}
