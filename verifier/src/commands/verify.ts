/**
 * `oidc-guard verify`: the post-deploy proof that an ESC environment yields working temporary AWS credentials for
 * the expected role, and that environments which must not get in are refused. Argument parsing, output and exit
 * codes only; the work is in ../verify/. Exit codes: 0 verified, 1 verification failed, 2 usage or configuration
 * error, 3 could not verify.
 */
import { resolve } from "node:path";
import { checkFormat, parseCommandArgs } from "../args.js";
import { quietAwsSdkNodeWarning } from "../aws-sdk.js";
import { docsUrl } from "../docs.js";
import { CliError, EXIT, type CliIO } from "../io.js";
import { escapeText, textLine } from "../escape.js";
import { realPathOf, writeOutputFile } from "../output.js";
import { REPORT_FLAG_OPTIONS, applyMarkdownMaxKib, renderReport, type ReportFormat } from "../report/index.js";
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, verifyEnvironments, type BatchOptions } from "../verify/batch.js";
import { VerifyConfigError } from "../verify/errors.js";
import { looksLikePulumiToken, parseEnvRef } from "../verify/ref.js";
import { Redactor, redactingSink, type Sink } from "../redact.js";
import { OUTPUT_FORMATS, render, type OutputFormat } from "../verify/render.js";
import {
    DEFAULT_ENVIRONMENT_OUTPUT,
    DEFAULT_ROLE_ARN_OUTPUT,
    readStackOutputs,
} from "../verify/stack-outputs.js";
import type { BatchVerificationResult, VerificationResult, VerifyOptions } from "../verify/types.js";
import { createContext, DEFAULT_TIMEOUT_SECONDS, verifyWithContext } from "../verify/verify-environment.js";
import { Deadline } from "../verify/deadline.js";

/** Default deadline when several environments are verified. */
const DEFAULT_BATCH_TIMEOUT_SECONDS = 300;

export const HELP = `Usage: oidc-guard verify <org>/<project>/<env>... [options]
       oidc-guard verify --all <org> [options]
       oidc-guard verify --stack-outputs <file> [options]

Open ESC environments and prove, without printing any secret, that each returns temporary AWS
credentials (ASIA... with a session token) that work (STS GetCallerIdentity) and belong to the expected
role, and that --expect-denied environments get no credentials.

Options:
  --role-arn <arn>              Role the credentials must belong to (default: the environment's
                                literal oidc.roleArn, when readable).
  --expect-denied <ref>         An environment that must NOT get credentials (repeatable): the runtime
                                proof that the role's trust policy pins sub.
  --no-sts                      Do not call STS; the result says so and skips the identity checks.
  --duration <go-duration>      Open duration, e.g. 15m or 1h (ESC default 1h); also bounds the expiry.
  --timeout <seconds>           Overall deadline (default ${DEFAULT_TIMEOUT_SECONDS}; ${DEFAULT_BATCH_TIMEOUT_SECONDS} with several environments).
  --format <fmt>                text (default), json, junit (a testcase per check), sarif, markdown or html
  --output <file>               Write the --format output to <file> instead of stdout
  --json|--junit|--sarif|--markdown|--html <file>
                                Also write that format to <file> ('-' for stdout); several in one run
  --markdown-max-kib <n>        Keep the Markdown within <n> KiB (default 900, for a GitHub step summary;
                                64 for a pull-request comment); what does not fit is left out with a note
  --stack-outputs <file>        Read the role ARN and environment(s) from \`pulumi stack output --json\`.
  --role-arn-output <key>       Output holding the role ARN (default ${DEFAULT_ROLE_ARN_OUTPUT}).
  --environment-output <key>    Output holding <org>/<project>/<env> or a list of them (default ${DEFAULT_ENVIRONMENT_OUTPUT}).
  --all <org>                   Verify every environment of <org> whose definition opens aws-login.
  --concurrency <n>             Environments verified at once with several (default ${DEFAULT_CONCURRENCY}, max ${MAX_CONCURRENCY}).
  -h, --help                    Show this help.

Environment:
  PULUMI_ACCESS_TOKEN           Required. Never pass a token as an argument.
  PULUMI_BACKEND_URL            Pulumi Cloud API (default https://api.pulumi.com; ports and paths work).
  AWS_ENDPOINT_URL_STS, AWS_REGION   Where STS is called (AWS SDK semantics; region default us-east-1).
  GITHUB_ACTIONS=true           Also emit ::add-mask:: for each access key id obtained.

Exit codes:
  0 verified   1 verification failed   2 usage or configuration error   3 could not verify
  70 internal error (a bug in oidc-guard; OIDC_GUARD_DEBUG=1 prints the stack trace)

Examples:
  oidc-guard verify acme/platform/aws-prod --role-arn arn:aws:iam::123456789012:role/esc-prod
  oidc-guard verify acme/platform/aws-prod --expect-denied acme/platform/aws-dev --format junit > verify.xml
  pulumi stack output --json > outputs.json && oidc-guard verify --stack-outputs outputs.json
  oidc-guard verify --all acme --concurrency 16 --format json

Documentation: ${docsUrl("verify.md")}
`;

function usage(message: string, hint?: string): CliError {
    return new CliError(`${message}${hint ? `\nhint: ${hint}` : ""}`, EXIT.usage);
}

/** Formats `verify` renders itself; the others come from the shared report library. */
const OWN_FORMATS: readonly string[] = OUTPUT_FORMATS;
const ALL_FORMATS = [...OUTPUT_FORMATS, "sarif", "markdown", "html"] as const;
type AnyFormat = (typeof ALL_FORMATS)[number];

interface Parsed {
    refs: string[];
    all?: string;
    format: OutputFormat;
    /** Every output: the --format one first (to --output or stdout), then --json/--junit/... files. */
    outputs: Array<{ format: AnyFormat; path: string; markdownBudget?: number }>;
    concurrency?: number;
    options: VerifyOptions;
    stackOutputs?: { file: string; roleKey?: string; envKey?: string };
}

/** The options of `verify` (the report flags come from the shared report library). */
const OPTIONS = {
    "role-arn": { type: "string" },
    "expect-denied": { type: "string", multiple: true },
    "no-sts": { type: "boolean" },
    duration: { type: "string" },
    timeout: { type: "string" },
    ...REPORT_FLAG_OPTIONS,
    "stack-outputs": { type: "string" },
    "role-arn-output": { type: "string" },
    "environment-output": { type: "string" },
    all: { type: "string" },
    concurrency: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const;

function parse(argv: string[]): Parsed | "help" {
    // A token must never come from argv, and must not be echoed back in an error about it either.
    if (argv.some(looksLikePulumiToken)) {
        throw usage(
            "an argument looks like a Pulumi access token",
            "tokens are read from PULUMI_ACCESS_TOKEN only; revoke a token that was passed on a command line",
        );
    }
    const { values, positionals } = parseCommandArgs("verify", argv, OPTIONS);
    if (values.help) return "help";
    const chosen = checkFormat("verify", values.format ?? "text", ALL_FORMATS);
    const outputs: Parsed["outputs"] = [{ format: chosen, path: values.output ?? "-" }];
    for (const f of ["json", "junit", "sarif", "markdown", "html"] as const) {
        const path = values[f];
        if (path === undefined) continue;
        outputs.push({ format: f, path });
    }
    if (outputs.filter((o) => o.path === "-").length > 1) {
        throw usage("more than one output would go to stdout: give all but one of them a file name");
    }
    applyMarkdownMaxKib(outputs, values["markdown-max-kib"]);
    // Progress lines and the text table are for a person; other formats on stdout stay machine-readable.
    const format: OutputFormat = OWN_FORMATS.includes(chosen) ? (chosen as OutputFormat) : "json";
    let timeoutSeconds: number | undefined;
    if (values.timeout !== undefined) {
        timeoutSeconds = Number(values.timeout);
        if (!/^\d+(\.\d+)?$/.test(values.timeout) || !(timeoutSeconds > 0)) {
            throw usage(`--timeout '${values.timeout}' is not a positive number of seconds`);
        }
    }
    let concurrency: number | undefined;
    if (values.concurrency !== undefined) {
        concurrency = Number(values.concurrency);
        if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw usage(`--concurrency '${values.concurrency}' must be an integer from 1 to ${MAX_CONCURRENCY}`);
        }
    }
    if (values.all !== undefined && positionals.length > 0) {
        throw usage("give either --all <org> or environment references, not both");
    }
    if ((values["role-arn-output"] !== undefined || values["environment-output"] !== undefined) && values["stack-outputs"] === undefined) {
        throw usage("--role-arn-output and --environment-output name keys in --stack-outputs <file>, which is missing");
    }
    return {
        refs: positionals,
        all: values.all,
        format,
        outputs,
        concurrency,
        options: {
            roleArn: values["role-arn"],
            expectDenied: values["expect-denied"] ?? [],
            sts: !values["no-sts"],
            duration: values.duration,
            timeoutSeconds,
        },
        stackOutputs:
            values["stack-outputs"] !== undefined
                ? { file: values["stack-outputs"], roleKey: values["role-arn-output"], envKey: values["environment-output"] }
                : undefined,
    };
}

/** Exit code of a verdict. */
export function exitCodeFor(verdict: VerificationResult["verdict"]): number {
    return verdict === "verified" ? EXIT.ok : verdict === "failed" ? EXIT.failed : EXIT.couldNotVerify;
}

/** `oidc-guard verify`: returns the exit code; throws CliError for usage and configuration errors. */
export async function main(argv: string[], io: CliIO): Promise<number> {
    const parsed = parse(argv);
    if (parsed === "help") {
        io.stdout.write(HELP);
        return EXIT.ok;
    }
    quietAwsSdkNodeWarning();
    // Everything written goes through the redactor: the token now, credentials as they are seen.
    const redactor = io.redactor ?? new Redactor();
    redactor.add(io.env.PULUMI_ACCESS_TOKEN?.trim());
    const stdout = redactingSink(io.stdout, redactor);
    const stderr = redactingSink(io.stderr, redactor);
    const inGitHubActions = io.env.GITHUB_ACTIONS === "true";
    const masked = new Set<string>();
    const onAccessKeyId = (id: string): void => {
        // Workflow commands go to the raw stream: the value would otherwise be scrubbed. Only key ids, never secrets.
        if (!inGitHubActions || masked.has(id) || !/^[A-Z0-9]{16,128}$/.test(id)) return;
        masked.add(id);
        (io.rawStderr ?? io.stderr).write(`::add-mask::${id}\n`);
    };

    try {
        let refs = parsed.refs;
        const options: VerifyOptions & { redactor: Redactor; onAccessKeyId: (id: string) => void } = {
            ...parsed.options,
            env: io.env,
            redactor,
            onAccessKeyId,
        };
        if (parsed.stackOutputs) {
            const so = parsed.stackOutputs;
            // An output that is also the input would be overwritten with the report (paths compared after links).
            const input = realPathOf(resolve(io.cwd, so.file));
            const clash = parsed.outputs.find((o) => o.path !== "-" && realPathOf(resolve(io.cwd, o.path)) === input);
            if (clash) throw usage(`${clash.path} is both the --stack-outputs file and a report output: it would be overwritten`, "write the report to another file");
            const values = readStackOutputs(so.file, io.cwd, {
                roleArn: so.roleKey ?? DEFAULT_ROLE_ARN_OUTPUT,
                roleArnExplicit: so.roleKey !== undefined,
                environment: so.envKey ?? DEFAULT_ENVIRONMENT_OUTPUT,
                environmentExplicit: so.envKey !== undefined,
            });
            if (options.roleArn === undefined && values.roleArn !== undefined) {
                options.roleArn = values.roleArn;
                options.roleArnSource = "stack-outputs";
            }
            if (refs.length === 0 && parsed.all === undefined) {
                if (!values.environments) {
                    throw new VerifyConfigError(
                        `--stack-outputs ${so.file}: no output '${so.envKey ?? DEFAULT_ENVIRONMENT_OUTPUT}' to take the environment from`,
                        "give <org>/<project>/<env>, or name the output with --environment-output",
                    );
                }
                refs = values.environments;
            }
        }
        if (refs.length === 0 && parsed.all === undefined) {
            throw usage("no environment given", "oidc-guard verify <org>/<project>/<env> (or --all <org>, or --stack-outputs <file>); see --help");
        }

        // One deadline for the whole process, its exit included (the per-verification deadlines sit inside it).
        const totalSeconds = options.timeoutSeconds ?? (parsed.all === undefined && refs.length === 1 ? DEFAULT_TIMEOUT_SECONDS : DEFAULT_BATCH_TIMEOUT_SECONDS);
        io.setProcessDeadline?.(totalSeconds * 1000, "verify");
        let result: VerificationResult | BatchVerificationResult;
        if (parsed.all === undefined && refs.length === 1) {
            const ref = parseEnvRef(refs[0] as string);
            const ctx = createContext(options);
            result = await verifyWithContext(ctx, ref, new Deadline(ctx.timeoutMs));
        } else {
            const progress = io.stderr.isTTY === true && parsed.outputs[0]?.format === "text";
            result = await verifyEnvironments(parsed.all !== undefined ? { all: parsed.all } : { refs }, {
                ...options,
                timeoutSeconds: options.timeoutSeconds ?? DEFAULT_BATCH_TIMEOUT_SECONDS,
                concurrency: parsed.concurrency,
                onProgress: progress ? progressWriter(redactingSink(io.rawStderr ?? io.stderr, redactor)) : undefined,
            });
            if (progress) (io.rawStderr ?? io.stderr).write("\r\u001b[K");
        }
        for (const [i, out] of parsed.outputs.entries()) {
            const text = OWN_FORMATS.includes(out.format)
                ? render(result, out.format as OutputFormat)
                : renderReport(out.format as ReportFormat, { verifications: [result] }, out);
            if (out.path === "-") {
                stdout.write(text);
            } else {
                const file = resolve(io.cwd, out.path);
                try {
                    writeOutputFile(file, redactor.scrub(text));
                } catch (e) {
                    throw new CliError(`${i === 0 ? "--output" : `--${out.format}`} ${out.path}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, EXIT.usage);
                }
                stderr.write(textLine(`oidc-guard verify: wrote ${out.path} (${out.format})`));
            }
        }
        return exitCodeFor(result.verdict);
    } catch (e) {
        if (e instanceof VerifyConfigError) throw usage(e.message, e.hint);
        throw e;
    }
}

/** Progress on a TTY: one line rewritten in place. */
function progressWriter(sink: Sink): NonNullable<BatchOptions["onProgress"]> {
    const tallies = { verified: 0, failed: 0, error: 0, skipped: 0 };
    return (done, total, environment, outcome) => {
        tallies[outcome]++;
        sink.write(
            `\r\u001b[K[${done}/${total}] ${tallies.verified} verified, ${tallies.failed} failed, ${tallies.error} could not be verified, ${tallies.skipped} skipped  ${escapeText(environment)}`,
        );
    };
}
