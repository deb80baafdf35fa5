/**
 * `oidc-guard check <path>...`: checks IAM role trust policies (bare documents, `pulumi stack export`,
 * `pulumi preview --json`, AWS CLI listings) for Pulumi OIDC pinning of both `aud` and `sub`.
 * Exit 0: every target passes; 1: a target fails, is unknown or is malformed; 2: usage error or an input file
 * that cannot be read or parsed.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { runCheck } from "../check/analyze.js";
import { expandPaths, showPath } from "../check/files.js";
import { buildOptions, errnoMessage, readConfigFile, type ConfigSettings } from "../check/options.js";
import { renderJson, renderText, useColour } from "../check/render.js";
import { CliError, EXIT, type CliIO } from "../io.js";
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
  --config <file>          Pulumi --policy-pack-config file; the flags above add to its settings
  --format text|json       Output format (default: text)
  --output <file>          Write the report to <file> instead of standard output
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
    format: "text" | "json";
    output?: string;
    config?: string;
    orgs: string[];
    issuers: string[];
    allowSubjects: string[];
    audiences: string[];
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
                config: { type: "string" },
                format: { type: "string" },
                output: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (e) {
        throw new CliError(`${parseArgsMessage(e)}\n${HINT}`, EXIT.usage);
    }
    const format = values.format ?? "text";
    if (format !== "text" && format !== "json") {
        throw new CliError(`--format must be 'text' or 'json', not '${format}'\n${HINT}`, EXIT.usage);
    }
    for (const [flag, v] of [
        ["--output", values.output],
        ["--config", values.config],
    ] as const) {
        if (v !== undefined && v.trim() === "") throw new CliError(`${flag} needs a file name`, EXIT.usage);
    }
    return {
        paths: positionals,
        format,
        output: values.output,
        config: values.config,
        orgs: values.org ?? [],
        issuers: values.issuer ?? [],
        allowSubjects: values["allow-subject"] ?? [],
        audiences: values.audience ?? [],
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
    const outputPath = args.output !== undefined ? resolve(io.cwd, args.output) : undefined;
    const files = expandPaths(args.paths, io.cwd, outputPath);
    if (files.length === 0) {
        throw new CliError("no input files left to check (the --output file is not an input)", EXIT.usage);
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

    const target = outputPath !== undefined ? { isTTY: false } : io.stdout;
    const fileCount = run.files.length;
    const rendered =
        args.format === "json" ? renderJson(report) : renderText(report, useColour(target, io.env), fileCount);
    if (outputPath !== undefined) {
        try {
            writeFileSync(outputPath, rendered);
        } catch (e) {
            throw new CliError(`--output ${args.output ?? ""}: cannot write: ${errnoMessage(e)}`, EXIT.usage);
        }
        io.stderr.write(
            `oidc-guard check: wrote ${showPath(outputPath, io.cwd)} (${run.results.length} results: ` +
                `${summary.pass} pass, ${summary.fail} fail, ${summary.unknown} unknown, ${summary.error} error)\n`,
        );
    } else {
        io.stdout.write(rendered);
    }
    return code;
}
