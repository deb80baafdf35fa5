/**
 * `oidc-guard scan aws`: reads every IAM role and OIDC provider of one or more live AWS accounts (read-only) and
 * checks them with the same analysis and reports as `oidc-guard check`.
 * Exit 0: every target passes; 1: a target fails, is unknown or is malformed; 2: usage error; 3: an account could
 * not be read (the others are still scanned and reported).
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { helpHint, parseCommandArgs, wholeNumberOption } from "../args.js";
import { quietAwsSdkNodeWarning } from "../aws-sdk.js";
import { createChecker } from "../check/analyze.js";
import { docsUrl } from "../docs.js";
import { AWS_OIDC_PROVIDER_TYPE, AWS_ROLE_TYPE, decodeAwsPolicyDocument, type ExtractedInput } from "../check/inputs.js";
import { buildOptions, errnoMessage, readConfigFile, type ConfigSettings } from "../check/options.js";
import { CliError, EXIT, type CliIO } from "../io.js";
import { REPORT_FLAG_OPTIONS } from "../report/index.js";
import type { CheckReport, CheckResult } from "../results.js";
import { AccountReadError, ROLE_ARN, mapBounded, scanAccount, type AccountScan, type AwsConnection } from "../scan/aws.js";
import { toolInfo } from "../version.js";
import { analysisAndOutputFlags, writeCheckOutputs, type CheckOutputs } from "./check.js";
import { textLine } from "../escape.js";

export const USAGE = `Usage: oidc-guard scan aws [options]

Reads every IAM role (its trust policy) and every IAM OIDC identity provider of an AWS account, and
checks them exactly as 'oidc-guard check' does: roles trusting Pulumi Cloud's OIDC issuer must pin
both api.pulumi.com/oidc:aud and api.pulumi.com/oidc:sub.

Read-only: calls iam:ListRoles, iam:ListOpenIDConnectProviders, iam:GetOpenIDConnectProvider,
sts:GetCallerIdentity and, with --assume-role, sts:AssumeRole. Credentials come from the AWS SDK's
standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile,
SSO, web identity, container or instance credentials), never from the command line.
AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS point the SDK at other endpoints.

AWS options:
  --profile <name>         Named profile from ~/.aws/config and ~/.aws/credentials
  --region <region>        Region for STS (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)
  --assume-role <arn>      Scan the account of this role, assumed from the caller's credentials
                   (repeatable; without it the caller's own account is scanned)
  --assume-role-file <f>   File with one role ARN per line ('#' comments and blank lines ignored)
  --concurrency <n>        Accounts read at the same time (1-32, default 4)
  --timeout <seconds>      Bound on each HTTP attempt (1-300, default 30)
  --max-attempts <n>       Attempts per request; throttling and 5xx are retried with the SDK's
                   standard retry strategy (1-10, default 5)

Check options (as for 'oidc-guard check'):
  --org <name>             Pulumi organization whose tokens may get in (repeatable)
  --issuer <host/path>     Issuer to treat as Pulumi's (repeatable)
  --allow-subject <glob>   Allowed subject pattern, StringLike syntax (repeatable)
  --audience <aud>         Allowed audience (repeatable)
  --config <file>          Pulumi --policy-pack-config file
  --format <fmt>           text (default), json, sarif, junit, markdown or html
  --output <file>          Write the --format report to <file> instead of standard output
  --json|--sarif|--junit|--markdown|--html <file>
                   Also write a report in that format to <file> ('-' for standard output)
  --markdown-max-kib <n>   Keep the Markdown within <n> KiB (default 900, for a GitHub step summary; 64 for
                           a pull-request comment); what does not fit is left out with a note
  -h, --help               Show this help

Targets are named aws://<account-id>, resources by ARN.

Exit codes:
  0  every role and provider passes
  1  at least one fails, cannot be decided or is malformed
  2  usage error, or a config or role file that cannot be read
  3  at least one account could not be read (it is reported; the other accounts are still scanned)
  70 internal error (a bug in oidc-guard; OIDC_GUARD_DEBUG=1 prints the stack trace)

Examples:
  AWS_PROFILE=audit oidc-guard scan aws --org acme
  oidc-guard scan aws --org acme --assume-role arn:aws:iam::111111111111:role/oidc-guard-audit \\
      --assume-role arn:aws:iam::222222222222:role/oidc-guard-audit --sarif scan.sarif

Documentation: ${docsUrl("scan.md")}
`;

const HINT = helpHint("scan aws");
/** The largest `--assume-role-file` read. */
const ROLE_FILE_MAX_BYTES = 1024 * 1024;

interface ScanArgs extends CheckOutputs {
    config?: string;
    orgs: string[];
    issuers: string[];
    allowSubjects: string[];
    audiences: string[];
    profile?: string;
    region?: string;
    assumeRoles: string[];
    assumeRoleFile?: string;
    concurrency: number;
    timeoutSeconds: number;
    maxAttempts: number;
    help: boolean;
}

function intOption(name: string, raw: string | undefined, min: number, max: number, dflt: number): number {
    return raw === undefined ? dflt : wholeNumberOption("scan aws", name, raw, min, max);
}

/** Parses `scan aws` arguments strictly; every problem is a {@link CliError} with exit code 2. */
export function parseScanArgs(argv: string[]): ScanArgs {
    const { values, positionals } = parseCommandArgs("scan aws", argv, {
        org: { type: "string", multiple: true },
        issuer: { type: "string", multiple: true },
        "allow-subject": { type: "string", multiple: true },
        audience: { type: "string", multiple: true },
        config: { type: "string" },
        profile: { type: "string" },
        region: { type: "string" },
        "assume-role": { type: "string", multiple: true },
        "assume-role-file": { type: "string" },
        concurrency: { type: "string" },
        timeout: { type: "string" },
        "max-attempts": { type: "string" },
        ...REPORT_FLAG_OPTIONS,
        help: { type: "boolean", short: "h" },
    });
    const help = values.help === true;
    if (!help) {
        if (positionals.length === 0) throw new CliError(`name the cloud to scan: 'oidc-guard scan aws'\n${HINT}`, EXIT.usage);
        if (positionals[0] !== "aws") {
            throw new CliError(`'${positionals[0]}' is not a cloud oidc-guard can scan (only 'aws')\n${HINT}`, EXIT.usage);
        }
        if (positionals.length > 1) {
            throw new CliError(`unexpected argument '${positionals[1]}': scan aws takes options only\n${HINT}`, EXIT.usage);
        }
    }
    if (values.region !== undefined && !/^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(values.region)) {
        throw new CliError(`--region '${values.region}' is not an AWS region name (like us-east-1)`, EXIT.usage);
    }
    return {
        ...analysisAndOutputFlags(values, "scan aws"),
        profile: values.profile,
        region: values.region,
        assumeRoles: values["assume-role"] ?? [],
        assumeRoleFile: values["assume-role-file"],
        concurrency: intOption("concurrency", values.concurrency, 1, 32, 4),
        timeoutSeconds: intOption("timeout", values.timeout, 1, 300, 30),
        maxAttempts: intOption("max-attempts", values["max-attempts"], 1, 10, 5),
        help,
    };
}

/** Role ARNs from `--assume-role` and `--assume-role-file`, validated, duplicates dropped (order kept). */
export function roleTargets(args: Pick<ScanArgs, "assumeRoles" | "assumeRoleFile">, cwd: string): string[] {
    const arns: { arn: string; where: string }[] = args.assumeRoles.map((arn) => ({ arn: arn.trim(), where: "--assume-role" }));
    if (args.assumeRoleFile !== undefined) {
        const path = resolve(cwd, args.assumeRoleFile);
        let text: string;
        try {
            if (statSync(path).size > ROLE_FILE_MAX_BYTES) {
        throw new CliError(`--assume-role-file ${args.assumeRoleFile}: larger than ${ROLE_FILE_MAX_BYTES} bytes`, EXIT.usage);
            }
            text = readFileSync(path, "utf8");
        } catch (e) {
            if (e instanceof CliError) throw e;
            throw new CliError(`--assume-role-file ${args.assumeRoleFile}: cannot read: ${errnoMessage(e)}`, EXIT.usage);
        }
        text.split(/\r?\n/).forEach((line, i) => {
            const arn = line.replace(/#.*/, "").trim();
            if (arn !== "") arns.push({ arn, where: `--assume-role-file ${args.assumeRoleFile} line ${i + 1}` });
        });
        if (!arns.some((a) => a.where.startsWith("--assume-role-file"))) {
            throw new CliError(`--assume-role-file ${args.assumeRoleFile}: no role ARNs in the file`, EXIT.usage);
        }
    }
    for (const a of arns) {
        if (!ROLE_ARN.test(a.arn)) {
            const shown = a.arn.length > 120 ? `${a.arn.slice(0, 120)}…` : a.arn;
            throw new CliError(
        `${a.where}: '${shown.replace(/[^\x20-\x7e]/g, "?")}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)`,
        EXIT.usage,
            );
        }
    }
    return [...new Set(arns.map((a) => a.arn))];
}

/** The account a role ARN belongs to. */
function accountOf(arn: string): string {
    return arn.split(":")[4] ?? "";
}

/** The roles and providers of a scanned account as `check` input (an account is one scope, like a stack). */
export function accountInput(scan: AccountScan): ExtractedInput {
    const file = `aws://${scan.account}`;
    return {
        kind: "aws-account",
        roles: scan.roles.map((r) => ({
            target: { file, resource: { urn: r.arn, type: AWS_ROLE_TYPE, name: r.name } },
            trustPolicy: decodeAwsPolicyDocument(r.trustPolicy),
            property: "AssumeRolePolicyDocument",
        })),
        providers: scan.providers.map((p) => ({
            target: { file, resource: { urn: p.arn, type: AWS_OIDC_PROVIDER_TYPE, name: p.url ?? p.arn } },
            // IAM stores and returns the URL without its scheme, which is always https.
            url: p.url === undefined ? undefined : /^[a-z][a-z0-9+.-]*:\/\//i.test(p.url) ? p.url : `https://${p.url}`,
            clientIds: p.clientIds,
            arn: p.arn,
        })),
        stackScoped: true,
        entries: scan.roles.length + scan.providers.length,
    };
}

/** A progress line on a terminal only: rewritten in place, at most every 200 ms, cleared at the end. */
function progress(io: CliIO, total: number): { update: (done: number, requests: number) => void; end: () => void } {
    // The tool's own control sequences go to the raw stream (the dispatcher escapes everything on io.stderr).
    const out = io.rawStderr ?? io.stderr;
    if (out.isTTY !== true) return { update: () => {}, end: () => {} };
    let last = 0;
    let shown = false;
    return {
        update: (done, requests) => {
            const now = Date.now();
            if (now - last < 200 && done < total) return;
            last = now;
            shown = true;
            out.write(`\r\u001b[2Kscan aws: ${done}/${total} account${total === 1 ? "" : "s"} read, ${requests} requests`);
        },
        end: () => {
            if (shown) out.write("\r\u001b[2K");
        },
    };
}

/** Runs `oidc-guard scan <cloud>`. Returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
    const args = parseScanArgs(argv);
    if (args.help) {
        io.stdout.write(USAGE);
        return EXIT.ok;
    }
    let config: ConfigSettings | undefined;
    if (args.config !== undefined) {
        config = readConfigFile(resolve(io.cwd, args.config), args.config);
        for (const w of config.warnings) io.stderr.write(textLine(`oidc-guard scan: warning: ${w}`));
    }
    const options = buildOptions(config, args);
    const roles = roleTargets(args, io.cwd);
    const targets: (string | undefined)[] = roles.length > 0 ? roles : [undefined];

    quietAwsSdkNodeWarning();
    const connection: AwsConnection = {
        ...(args.profile !== undefined ? { profile: args.profile } : {}),
        region: args.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? "us-east-1",
        requestTimeoutMs: args.timeoutSeconds * 1000,
        maxAttempts: args.maxAttempts,
    };

    const bar = progress(io, targets.length);
    const requestsBy = new Array<number>(targets.length).fill(0);
    let done = 0;
    const scans = await mapBounded(targets, args.concurrency, async (roleArn, i) => {
        try {
            const scan = await scanAccount(connection, roleArn, (n) => {
        requestsBy[i] = n;
        bar.update(done, requestsBy.reduce((a, b) => a + b, 0));
            });
            return { roleArn, scan };
        } catch (e) {
            const message = e instanceof AccountReadError ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}`;
            return { roleArn, error: message };
        } finally {
            done++;
            bar.update(done, requestsBy.reduce((a, b) => a + b, 0));
        }
    });
    bar.end();

    const checker = createChecker(options);
    const results: CheckResult[] = [];
    let unreadable = 0;
    for (const s of scans) {
        if ("scan" in s && s.scan) {
            for (const r of checker.checkInput(accountInput(s.scan), `aws://${s.scan.account}`)) results.push(r);
            continue;
        }
        unreadable++;
        const label = s.roleArn !== undefined ? `aws://${accountOf(s.roleArn)}` : "aws://caller";
        const via = s.roleArn !== undefined ? ` (through ${s.roleArn})` : " (the caller's account)";
        const message = "error" in s ? (s.error ?? "") : "";
        io.stderr.write(textLine(`oidc-guard scan: ${label}${via}: cannot read: ${message}`));
        results.push({
            target: { file: label },
            verdict: "error",
            findings: [],
            notes: [`the account could not be read${via}: ${message}`],
        });
    }

    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of results) summary[r.verdict]++;
    const report: CheckReport = { tool: toolInfo(), results, summary };
    await writeCheckOutputs(report, {}, { count: targets.length, unit: "account" }, args, io, "scan");
    if (unreadable > 0) return EXIT.couldNotVerify;
    return summary.fail + summary.unknown + summary.error > 0 ? EXIT.failed : EXIT.ok;
}
