/**
 * The findings model every report format renders: check results (roles, providers) and verify results (ESC
 * environments) as one list of entries, each finding carrying its rule metadata from the pack's `RULES`
 * (policypack/src/analysis/rules.ts), the one source of truth for ids, titles, severities, remediation and URLs.
 *
 * Everything that enters the model is redacted first (redact.ts), so no renderer can leak a credential.
 */
import {
    DOCS_URL,
    PROVIDER_TYPES,
    RULES,
    type AdmittedSet,
    type Finding,
    type PulumiToken,
    type RuleMeta,
    type Severity,
} from "oidc-guard-policypack/analysis";
import type { CheckReport, CheckResult, ToolInfo, VerifyBatchReport, VerifyCheck, VerifyReport } from "../results.js";
import { VERIFY_RULE_PREFIX, VERIFY_RULES } from "../verify/rules.js";
import { toolInfo } from "../version.js";
import { SourceFile, type SourcePosition } from "./locate.js";
import { redactDeep, redactText } from "../redact.js";

/** What a report is made from. Any number of check and verify reports; the rest is optional. */
export interface ReportInput {
    checks?: readonly CheckReport[];
    /** Verify results: single environments, and batches (several refs or `--all`). */
    verifications?: readonly (VerifyReport | VerifyBatchReport)[];
    /**
     * Texts of the files the checks read, keyed by `CheckTarget.file` exactly as it appears in the results. Used for
     * line numbers (SARIF regions) and statement excerpts; a file without text falls back to line 1.
     */
    sources?: ReadonlyMap<string, string>;
    /** Files among `sources` whose text `JSON.parse` has accepted: they are not parsed again to be located in. */
    validJson?: ReadonlySet<string>;
    /** The result file each report was read from (`oidc-guard report`); shown as the entry's origin. */
    origins?: ReadonlyMap<CheckReport | VerifyReport | VerifyBatchReport, string>;
    /** Timestamp printed in the reports. Default: now. */
    generatedAt?: Date;
    /** Tool name and version printed in the reports. Default: this package's. */
    tool?: ToolInfo;
}

/** The verdict of one entry, normalized across check (`pass|fail|unknown|error`) and verify (`verified|failed|error`). */
export type EntryStatus = "pass" | "fail" | "unknown" | "error";

export const STATUSES: readonly EntryStatus[] = ["fail", "error", "unknown", "pass"];
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** A finding with its rule's metadata and, where the source is known, its position and statement. */
export interface ReportFinding extends Finding {
    rule: RuleMeta;
    /** Position in the entry's file (check entries with a known source text). */
    position?: SourcePosition;
    /** The offending statement, pretty-printed JSON, when it could be read from the source. */
    statement?: string;
}

/** One role, provider or environment. */
export interface ReportEntry {
    /** Unique within the report. */
    id: string;
    source: "check" | "verify";
    /** `role`, `provider`, `resource` (another type) or `environment`. */
    kind: "role" | "provider" | "resource" | "environment";
    /** Display name: the resource name, the file, or the environment. */
    name: string;
    /** The input it belongs to (JUnit test suite): the checked file, or the environment. */
    suite: string;
    file?: string;
    urn?: string;
    resourceType?: string;
    environment?: string;
    status: EntryStatus;
    /** The verdict as the producer wrote it. */
    verdict: string;
    findings: ReportFinding[];
    /** Positive evidence: what the trust policy admits from Pulumi issuers. */
    admitted: AdmittedSet[];
    notes: string[];
    /** Verify entries: each check the verifier ran. */
    checks: VerifyCheck[];
    callerIdentity: { account: string; arn: string } | null;
    /** Verify entries: further facts for people (expected role, access key id as shortened, diagnostics, error). */
    facts: { label: string; value: string }[];
    /** The result file the entry came from, when known. */
    origin?: string;
    /** Position of the resource (or line 1) in `file`, for entries without findings. */
    position?: SourcePosition;
}

export interface ReportModel {
    tool: ToolInfo;
    generatedAt: string;
    entries: ReportEntry[];
    /** The inputs, redacted (the JSON format prints them). */
    checks: CheckReport[];
    verifications: (VerifyReport | VerifyBatchReport)[];
    /** Environments a batch (`verify --all`) listed but did not verify, and why. */
    skipped: { environment: string; reason: string }[];
    counts: {
        status: Record<EntryStatus, number>;
        severity: Record<Severity, number>;
        findings: number;
        checked: number;
        verified: number;
    };
    /** True when there is at least one entry and every entry passed. */
    passed: boolean;
    /** Metadata of every rule the report may mention: `RULES`, `VERIFY_RULES`, then any other rule a finding names. */
    rules: RuleMeta[];
}

/**
 * Metadata for a rule id. Pack rules come from `RULES`, verify checks from `VERIFY_RULES` (`esc-verify/<check id>`),
 * the verifier's own list (verify/rules.ts). A verify check the catalog does not know yet gets a generic `esc-verify/` rule;
 * any other unknown id (a result file from a newer version) keeps the finding's own severity and remediation.
 */
export function ruleFor(id: string, finding?: Pick<Finding, "severity" | "remediation">): RuleMeta {
    const known = RULES.find((r) => r.id === id) ?? VERIFY_RULES.find((r) => r.id === id);
    if (known) return known;
    if (id.startsWith(VERIFY_RULE_PREFIX)) {
        const check = id.slice(VERIFY_RULE_PREFIX.length);
        return {
            id,
            policy: "oidc-guard verify",
            title: `ESC environment check "${check}" passes`,
            description:
                "`oidc-guard verify` opened the ESC environment and checked that `fn::open::aws-login` yields working temporary AWS credentials for the intended role.",
            severity: "high",
            remediation:
                "Read the check's detail. Usually the role's trust policy must admit this environment's token (`aud` `aws:<org>`, `sub` `pulumi:environments:org:<org>:env:<project>/<environment>`), or the environment's `roleArn` names the wrong role. Run `oidc-guard verify` again after the fix.",
            url: DOCS_URL,
            tags: ["esc", "verify"],
        };
    }
    return {
        id,
        policy: "unknown",
        title: id,
        description: `Rule ${id} is not in this version's catalog.`,
        severity: finding?.severity ?? "high",
        remediation: finding?.remediation ?? "See the finding's message.",
        url: DOCS_URL,
        tags: [],
    };
}

function kindOf(result: CheckResult): ReportEntry["kind"] {
    const type = result.target.resource?.type;
    if (type === undefined || /iam[:/_].*role/i.test(type)) return "role";
    // Pulumi's types, CloudFormation's AWS::IAM::OIDCProvider and CDK's Custom::AWSCDKOpenIdConnectProvider,
    // Terraform's aws_iam_openid_connect_provider.
    if ((PROVIDER_TYPES as readonly string[]).includes(type) || /oidc.?provider|open.?id.?connect.?provider/i.test(type)) {
        return "provider";
    }
    return "resource";
}

/** Rule of the finding added to a failed check result that reported none. */
export const UNEXPLAINED_FAILURE_RULE = "oidc-guard/unexplained-failure";

const IMPLICIT: Record<"fail" | "unknown" | "error", { ruleId: string; message: string }> = {
    unknown: {
        ruleId: "oidc-trust-unknown-at-preview",
        message: "The trust policy holds values unknown at preview; it is checked when they are known.",
    },
    error: { ruleId: "oidc-trust-document-valid", message: "The trust policy could not be analysed." },
    fail: {
        ruleId: UNEXPLAINED_FAILURE_RULE,
        message: "The check failed this target without reporting a finding; run `oidc-guard check` on it for details.",
    },
};

/** A check result whose verdict is not `pass` yet has no finding still gets one, so no format can show it clean. */
function implicitFinding(result: CheckResult): Finding | undefined {
    if (result.findings.length > 0 || result.verdict === "pass") return undefined;
    const { ruleId, message } = IMPLICIT[result.verdict];
    const meta = ruleFor(ruleId);
    return {
        ruleId,
        severity: meta.severity,
        message,
        path: "",
        location: {},
        remediation: meta.remediation,
        counterexample: null,
    };
}

/** The files' texts, each read into a `SourceFile` when a result first needs it. */
interface Sources {
    texts: ReadonlyMap<string, string>;
    files: Map<string, SourceFile | null>;
    /** The URNs of each file's results: the only resources its index needs. */
    urns: Map<string, Set<string>>;
    validJson: ReadonlySet<string>;
    /** Quote each finding's statement (`ReportFinding.statement`). */
    statements: boolean;
}

function checkEntry(result: CheckResult, sources: Sources, origin: string | undefined): ReportEntry {
    const file = result.target.file;
    let source = sources.files.get(file);
    if (source === undefined) {
        const text = sources.texts.get(file);
        const urns = sources.urns.get(file);
        source = text === undefined ? null : new SourceFile(text, { validJson: sources.validJson.has(file), ...(urns ? { urns } : {}) });
        sources.files.set(file, source);
    }
    const urn = result.target.resource?.urn;
    const line = result.target.line;
    const declared = line !== undefined && result.target.resource ? { line, name: result.target.resource.name } : undefined;
    const findings = [...result.findings];
    const extra = implicitFinding(result);
    if (extra) findings.push(extra);
    const reportFindings: ReportFinding[] = findings.map((f) => {
        const rf: ReportFinding = { ...f, rule: ruleFor(f.ruleId, f) };
        if (source) {
            rf.position = source.locate({ urn, location: f.location, ...(declared ? { declared } : {}) });
            if (sources.statements && f.location.statementIndex !== undefined) {
                const st = source.statement({ urn, statementIndex: f.location.statementIndex, ...(declared ? { declared } : {}) });
                if (st !== undefined) rf.statement = redactText(st);
            }
        }
        return rf;
    });
    const entry: ReportEntry = {
        id: "",
        source: "check",
        kind: kindOf(result),
        name: result.target.resource?.name ?? file,
        suite: file,
        file,
        status: result.verdict,
        verdict: result.verdict,
        findings: reportFindings,
        admitted: result.admitted ?? [],
        notes: result.notes ?? [],
        checks: [],
        callerIdentity: null,
        facts: [],
    };
    if (result.target.resource) {
        entry.urn = result.target.resource.urn;
        entry.resourceType = result.target.resource.type;
    }
    if (origin !== undefined) entry.origin = origin;
    if (source) entry.position = source.locate({ urn, ...(declared ? { declared } : {}) });
    return entry;
}

/** `expect-denied:<org>/<project>/<env>` → `expect-denied`: one rule per kind of check, not per environment. */
function verifyRuleId(checkId: string | undefined): string {
    return `${VERIFY_RULE_PREFIX}${(checkId ?? "environment").split(":")[0] ?? "environment"}`;
}

function verifyFinding(check: VerifyCheck | undefined, subject: string, verdict: string): Finding {
    const meta = ruleFor(verifyRuleId(check?.id));
    return {
        ruleId: meta.id,
        severity: meta.severity,
        message: check
            ? `${subject}: ${check.id.includes(":") ? `${check.id}: ` : ""}${check.detail}`
            : `${subject}: verification ended with "${verdict}" and no failed check explains it.`,
        path: "",
        location: {},
        remediation: meta.remediation,
        counterexample: null,
    };
}

function verifyFacts(report: VerifyReport): { label: string; value: string }[] {
    const facts: { label: string; value: string }[] = [];
    if (report.expectedRole) facts.push({ label: "Expected role", value: `${report.expectedRole.arn} (from ${report.expectedRole.source})` });
    if (report.callerIdentity) facts.push({ label: "Caller identity", value: `${report.callerIdentity.arn} (account ${report.callerIdentity.account})` });
    if (report.accessKeyId) facts.push({ label: "Access key id", value: report.accessKeyId });
    if (report.sts) facts.push({ label: "STS GetCallerIdentity", value: report.sts });
    for (const d of report.diagnostics ?? []) facts.push({ label: "Diagnostic", value: d.hint ? `${d.message} (hint: ${d.hint})` : d.message });
    if (report.error) facts.push({ label: "Error", value: `${report.error.kind}: ${report.error.message}` });
    if (report.durationMs !== undefined) facts.push({ label: "Duration", value: `${report.durationMs} ms` });
    return facts;
}

function verifyEntry(report: VerifyReport, origin: string | undefined): ReportEntry {
    const failed = report.checks.filter((c) => c.status === "fail");
    const findings: Finding[] = failed.map((c) => verifyFinding(c, report.environment, report.verdict));
    // A run that did not verify yet names no failed check is still reported as not verified.
    if (report.verdict !== "verified" && findings.length === 0) findings.push(verifyFinding(undefined, report.environment, report.verdict));
    const status: EntryStatus =
        report.verdict === "error" ? "error" : report.verdict === "failed" || failed.length > 0 ? "fail" : "pass";
    const entry: ReportEntry = {
        id: "",
        source: "verify",
        kind: "environment",
        name: report.environment,
        suite: report.environment,
        environment: report.environment,
        status,
        verdict: report.verdict,
        findings: findings.map((f) => ({ ...f, rule: ruleFor(f.ruleId, f) })),
        admitted: [],
        notes: [],
        checks: report.checks,
        callerIdentity: report.callerIdentity,
        facts: verifyFacts(report),
    };
    if (origin !== undefined) entry.origin = origin;
    return entry;
}

/** A check about a batch as a whole (`expect-denied:<env>`, `environments-found`) as an entry of its own. */
function batchCheckEntry(check: VerifyCheck, origin: string | undefined): ReportEntry {
    const environment = check.id.includes(":") ? check.id.slice(check.id.indexOf(":") + 1) : undefined;
    // A skipped batch check proved nothing: neither a pass nor a failure.
    const status: EntryStatus = check.status === "pass" ? "pass" : check.status === "fail" ? "fail" : "unknown";
    const findings = status === "pass" ? [] : [verifyFinding(check, "batch", check.status)];
    const entry: ReportEntry = {
        id: "",
        source: "verify",
        kind: "environment",
        name: check.id,
        suite: "batch checks",
        status,
        verdict: check.status,
        findings: findings.map((f) => ({ ...f, rule: ruleFor(f.ruleId, f) })),
        admitted: [],
        notes: [],
        checks: [check],
        callerIdentity: null,
        facts: [],
    };
    if (environment !== undefined) entry.environment = environment;
    if (origin !== undefined) entry.origin = origin;
    return entry;
}

/** Entries of a verify result: one per environment, plus one per batch check. */
function verifyEntries(
    report: VerifyReport | VerifyBatchReport,
    origin: string | undefined,
    skipped: { environment: string; reason: string }[],
): ReportEntry[] {
    if (!("results" in report)) return [verifyEntry(report, origin)];
    for (const s of report.skipped ?? []) skipped.push(s);
    // One JUnit suite for the batch, as for any other input.
    const suite = `batch${origin !== undefined ? ` ${origin}` : ""}`;
    const entries = [...report.results.map((r) => verifyEntry(r, origin)), ...report.checks.map((c) => batchCheckEntry(c, origin))];
    for (const e of entries) e.suite = suite;
    // A batch that says it did not verify yet has nothing failing inside is still not a pass.
    if (report.verdict !== "verified" && entries.every((e) => e.status === "pass")) {
        const check: VerifyCheck = { id: "batch", status: "fail", detail: `the batch ended with "${report.verdict}" and no result or check explains it` };
        entries.push(batchCheckEntry(check, origin));
    }
    return entries;
}

const STATUS_RANK: Record<EntryStatus, number> = { error: 0, fail: 1, unknown: 2, pass: 3 };
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** The most severe severity among `findings`, or undefined when there are none. */
export function worstSeverity(findings: readonly Finding[]): Severity | undefined {
    let worst: Severity | undefined;
    for (const f of findings) if (worst === undefined || SEVERITY_RANK[f.severity] < SEVERITY_RANK[worst]) worst = f.severity;
    return worst;
}

/**
 * Builds the model from the inputs. Redacts every input string first. `options.statements: false`: findings quote no
 * statement (JUnit shows none; quoting one is a parse and a pretty-print of it per finding).
 */
export function buildModel(input: ReportInput, options: { statements?: boolean } = {}): ReportModel {
    // Redacted where needed, shared where not: the model builds new entries and never changes what it reads.
    const checks = (input.checks ?? []).map((c) => ({ raw: c, red: redactDeep(c) }));
    const verifications = (input.verifications ?? []).map((v) => ({ raw: v, red: redactDeep(v) }));
    // Keyed like the redacted results, so that lookups match.
    const sources: Sources = {
        texts: new Map([...(input.sources ?? new Map<string, string>())].map(([k, v]) => [redactText(k), v])),
        files: new Map(),
        urns: new Map(),
        validJson: new Set([...(input.validJson ?? [])].map(redactText)),
        statements: options.statements ?? true,
    };
    for (const { red } of checks) {
        for (const r of red.results) {
            const urn = r.target.resource?.urn;
            if (urn === undefined) continue;
            let urns = sources.urns.get(r.target.file);
            if (urns === undefined) sources.urns.set(r.target.file, (urns = new Set()));
            urns.add(urn);
        }
    }
    const origin = (report: CheckReport | VerifyReport | VerifyBatchReport): string | undefined => {
        const o = input.origins?.get(report);
        return o === undefined ? undefined : redactText(o);
    };
    const entries: ReportEntry[] = [];
    for (const { raw, red } of checks) {
        for (const r of red.results) entries.push(checkEntry(r, sources, origin(raw)));
    }
    const skipped: { environment: string; reason: string }[] = [];
    for (const { raw, red } of verifications) for (const e of verifyEntries(red, origin(raw), skipped)) entries.push(e);
    entries.sort(
        (a, b) =>
            STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
            (a.source === b.source ? 0 : a.source === "check" ? -1 : 1) ||
            a.suite.localeCompare(b.suite) ||
            a.name.localeCompare(b.name),
    );
    const seen = new Map<string, number>();
    for (const e of entries) {
        const base = `${e.source}:${e.suite}${e.urn ? `#${e.urn}` : ""}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        e.id = n === 1 ? base : `${base}~${n}`;
    }
    const status: Record<EntryStatus, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    const severity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    let findings = 0;
    for (const e of entries) {
        status[e.status]++;
        for (const f of e.findings) {
            severity[f.severity]++;
            findings++;
        }
    }
    const rules: RuleMeta[] = [...RULES, ...VERIFY_RULES];
    for (const e of entries) {
        for (const f of e.findings) if (!rules.some((r) => r.id === f.rule.id)) rules.push(f.rule);
    }
    return {
        tool: input.tool ?? toolInfo(),
        generatedAt: (input.generatedAt ?? new Date()).toISOString(),
        entries,
        checks: checks.map((c) => c.red),
        verifications: verifications.map((v) => v.red),
        skipped,
        counts: {
            status,
            severity,
            findings,
            checked: entries.filter((e) => e.source === "check").length,
            verified: entries.filter((e) => e.source === "verify").length,
        },
        passed: entries.length > 0 && entries.every((e) => e.status === "pass"),
        rules,
    };
}

/** `iss=… aud=… sub=…`: how a counterexample token reads in every format. */
export function formatToken(token: PulumiToken): string {
    return `iss=${token.issuer} aud=${token.aud} sub=${token.sub}`;
}

/** One line per issuer: the audiences and subject patterns a trust policy admits. */
export function formatAdmitted(set: AdmittedSet): { issuer: string; audiences: string; subjects: string } {
    return {
        issuer: set.issuer,
        audiences: set.audiences === null ? "any audience (not pinned)" : set.audiences.join(", ") || "none",
        subjects: set.subjects.length === 0 ? "none listed" : set.subjects.join(", "),
    };
}

/** `file:line` (or the URN, or the environment): where an entry or finding is, for people. */
export function whereText(entry: ReportEntry, finding?: ReportFinding): string {
    if (entry.source === "verify") return entry.environment ?? entry.name;
    const pos = finding?.position ?? entry.position;
    const at = pos ? `${entry.file ?? ""}:${pos.line}` : (entry.file ?? "");
    return entry.urn ? `${at} (${entry.urn})` : at;
}

/** Splits at single-backtick code spans: even indices are text, odd indices code. An unpaired backtick is text. */
export function splitCode(value: string): string[] {
    const parts: string[] = [];
    const re = /`([^`\n]+)`/g;
    let last = 0;
    for (let m = re.exec(value); m !== null; m = re.exec(value)) {
        parts.push(value.slice(last, m.index), m[1] ?? "");
        last = m.index + m[0].length;
    }
    parts.push(value.slice(last));
    return parts;
}
