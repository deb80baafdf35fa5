/**
 * Reading result files back: detect whether a JSON document is a check result, a verify result or a merged report
 * (by shape), and check every field the reports use, so a wrong file fails with a message that names the field.
 */
import type { Severity, Verdict } from "oidc-guard-policypack/analysis";
import type { CheckReport, CheckResult, VerifyBatchReport, VerifyCheck, VerifyReport } from "../results.js";

/** A result document that does not have the expected shape; `path` locates the field (`results[2].verdict`). */
export class ResultShapeError extends Error {
    constructor(
        readonly path: string,
        message: string,
    ) {
        super(path ? `${path}: ${message}` : message);
        this.name = "ResultShapeError";
    }
}

export type ParsedResult = { kind: "check"; report: CheckReport } | { kind: "verify"; report: VerifyReport | VerifyBatchReport };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function obj(v: unknown, path: string): Obj {
    if (!isObj(v)) throw new ResultShapeError(path, "expected an object");
    return v;
}

function arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) throw new ResultShapeError(path, "expected an array");
    return v;
}

function str(v: unknown, path: string): string {
    if (typeof v !== "string") throw new ResultShapeError(path, "expected a string");
    return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
        throw new ResultShapeError(path, `expected one of ${allowed.join(", ")}`);
    }
    return v as T;
}

function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
    return v === undefined ? undefined : read(v);
}

const VERDICTS: readonly Verdict[] = ["pass", "fail", "unknown", "error"];
const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

function tool(v: unknown, path: string): void {
    const o = obj(v, path);
    str(o.name, `${path}.name`);
    str(o.version, `${path}.version`);
}

function finding(v: unknown, path: string): void {
    const o = obj(v, path);
    str(o.ruleId, `${path}.ruleId`);
    oneOf(o.severity, SEVERITIES, `${path}.severity`);
    str(o.message, `${path}.message`);
    str(o.path, `${path}.path`);
    str(o.remediation, `${path}.remediation`);
    const loc = obj(o.location, `${path}.location`);
    const si = loc.statementIndex;
    if (si !== undefined && (typeof si !== "number" || !Number.isInteger(si) || si < 0)) {
        throw new ResultShapeError(`${path}.location.statementIndex`, "expected a non-negative integer");
    }
    optional(loc.operator, (x) => str(x, `${path}.location.operator`));
    optional(loc.conditionKey, (x) => str(x, `${path}.location.conditionKey`));
    if (o.counterexample !== null) {
        const c = obj(o.counterexample, `${path}.counterexample`);
        for (const k of ["issuer", "aud", "sub"]) str(c[k], `${path}.counterexample.${k}`);
    }
    optional(o.tokenKind, (x) => str(x, `${path}.tokenKind`));
    optional(o.tokenDescription, (x) => str(x, `${path}.tokenDescription`));
    optional(o.readings, (x) => arr(x, `${path}.readings`).forEach((r, i) => str(r, `${path}.readings[${i}]`)));
    optional(o.advisory, (x) => {
        if (typeof x !== "boolean") throw new ResultShapeError(`${path}.advisory`, "expected a boolean");
    });
    optional(o.blastRadius, (x) =>
        arr(x, `${path}.blastRadius`).forEach((b, i) => {
            const at = `${path}.blastRadius[${i}]`;
            const e = obj(b, at);
            for (const k of ["class", "description", "tokenKind", "tokenDescription"]) str(e[k], `${at}.${k}`);
            const c = obj(e.counterexample, `${at}.counterexample`);
            for (const k of ["issuer", "aud", "sub"]) str(c[k], `${at}.counterexample.${k}`);
        }),
    );
}

function admitted(v: unknown, path: string): void {
    const o = obj(v, path);
    str(o.issuer, `${path}.issuer`);
    if (o.audiences !== null) arr(o.audiences, `${path}.audiences`).forEach((a, i) => str(a, `${path}.audiences[${i}]`));
    arr(o.subjects, `${path}.subjects`).forEach((s, i) => str(s, `${path}.subjects[${i}]`));
    arr(o.statements, `${path}.statements`).forEach((s, i) => {
        if (typeof s !== "number") throw new ResultShapeError(`${path}.statements[${i}]`, "expected a number");
    });
    optional(o.kinds, (x) =>
        arr(x, `${path}.kinds`).forEach((k, i) => {
            const e = obj(k, `${path}.kinds[${i}]`);
            str(e.kind, `${path}.kinds[${i}].kind`);
            str(e.description, `${path}.kinds[${i}].description`);
        }),
    );
}

function checkResult(v: unknown, path: string): CheckResult {
    const o = obj(v, path);
    const t = obj(o.target, `${path}.target`);
    str(t.file, `${path}.target.file`);
    if (t.resource !== undefined) {
        const r = obj(t.resource, `${path}.target.resource`);
        for (const k of ["urn", "type", "name"]) str(r[k], `${path}.target.resource.${k}`);
    }
    oneOf(o.verdict, VERDICTS, `${path}.verdict`);
    arr(o.findings, `${path}.findings`).forEach((f, i) => finding(f, `${path}.findings[${i}]`));
    optional(o.admitted, (x) => arr(x, `${path}.admitted`).forEach((a, i) => admitted(a, `${path}.admitted[${i}]`)));
    optional(o.notes, (x) => arr(x, `${path}.notes`).forEach((n, i) => str(n, `${path}.notes[${i}]`)));
    return o as unknown as CheckResult;
}

/**
 * Validates a check result document (`oidc-guard check --format json`) and returns it, with `summary` recounted
 * from the verdicts rather than trusted. Fields the reports do not read are kept as they are.
 */
export function readCheckReport(v: unknown, path = ""): CheckReport {
    const o = obj(v, path || "(document)");
    const p = (k: string): string => (path ? `${path}.${k}` : k);
    tool(o.tool, p("tool"));
    const results = arr(o.results, p("results")).map((r, i) => checkResult(r, `${p("results")}[${i}]`));
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of results) summary[r.verdict]++;
    return { ...(o as unknown as CheckReport), results, summary };
}

const VERIFY_VERDICTS = ["verified", "failed", "error"] as const;

function verifyChecks(v: unknown, path: string): VerifyCheck[] {
    return arr(v, path).map((c, i) => {
        const co = obj(c, `${path}[${i}]`);
        str(co.id, `${path}[${i}].id`);
        oneOf(co.status, ["pass", "fail", "skip"] as const, `${path}[${i}].status`);
        str(co.detail, `${path}[${i}].detail`);
        return co as unknown as VerifyCheck;
    });
}

/** Validates a verify result document (`oidc-guard verify --format json`, one environment) and returns it. */
export function readVerifyReport(v: unknown, path = ""): VerifyReport {
    const o = obj(v, path || "(document)");
    const p = (k: string): string => (path ? `${path}.${k}` : k);
    tool(o.tool, p("tool"));
    str(o.environment, p("environment"));
    oneOf(o.verdict, VERIFY_VERDICTS, p("verdict"));
    verifyChecks(o.checks, p("checks"));
    if (o.callerIdentity !== null) {
        const ci = obj(o.callerIdentity, p("callerIdentity"));
        str(ci.account, p("callerIdentity.account"));
        str(ci.arn, p("callerIdentity.arn"));
    }
    if (o.expectedRole !== undefined && o.expectedRole !== null) {
        const er = obj(o.expectedRole, p("expectedRole"));
        str(er.arn, p("expectedRole.arn"));
        str(er.source, p("expectedRole.source"));
    }
    if (o.accessKeyId !== undefined && o.accessKeyId !== null) str(o.accessKeyId, p("accessKeyId"));
    if (o.sts !== undefined) oneOf(o.sts, ["called", "skipped"] as const, p("sts"));
    optional(o.diagnostics, (x) =>
        arr(x, p("diagnostics")).forEach((d, i) => {
            const dobj = obj(d, `${p("diagnostics")}[${i}]`);
            str(dobj.message, `${p("diagnostics")}[${i}].message`);
            optional(dobj.hint, (h) => str(h, `${p("diagnostics")}[${i}].hint`));
        }),
    );
    if (o.error !== undefined && o.error !== null) {
        const er = obj(o.error, p("error"));
        str(er.kind, p("error.kind"));
        str(er.message, p("error.message"));
    }
    if (o.durationMs !== undefined && typeof o.durationMs !== "number") throw new ResultShapeError(p("durationMs"), "expected a number");
    return o as unknown as VerifyReport;
}

/** Validates a verify result over several environments (`oidc-guard verify` with several refs or `--all`). */
export function readVerifyBatchReport(v: unknown, path = ""): VerifyBatchReport {
    const o = obj(v, path || "(document)");
    const p = (k: string): string => (path ? `${path}.${k}` : k);
    tool(o.tool, p("tool"));
    oneOf(o.verdict, VERIFY_VERDICTS, p("verdict"));
    const results = arr(o.results, p("results")).map((r, i) => readVerifyReport(r, `${p("results")}[${i}]`));
    verifyChecks(o.checks, p("checks"));
    optional(o.skipped, (x) =>
        arr(x, p("skipped")).forEach((s, i) => {
            const so = obj(s, `${p("skipped")}[${i}]`);
            str(so.environment, `${p("skipped")}[${i}].environment`);
            str(so.reason, `${p("skipped")}[${i}].reason`);
        }),
    );
    const summary = { verified: 0, failed: 0, error: 0 };
    for (const r of results) summary[r.verdict]++;
    return { ...(o as unknown as VerifyBatchReport), results, summary };
}

/** A verify result of either shape: a batch has `results`, a single one `environment`. */
function readAnyVerify(v: unknown, path: string): VerifyReport | VerifyBatchReport {
    return isObj(v) && "results" in v ? readVerifyBatchReport(v, path) : readVerifyReport(v, path);
}

/**
 * Detects the kind of a parsed result document and validates it. A merged report (this module's JSON output for
 * mixed inputs) yields its parts, so `oidc-guard report` can merge its own output again.
 * @throws ResultShapeError when the document is none of them, or a field is wrong.
 */
export function parseResultDocument(doc: unknown): ParsedResult[] {
    if (!isObj(doc)) throw new ResultShapeError("", "expected a JSON object (a check or verify result)");
    // Both a check result and a verify batch have `results`; only the batch has a top-level verdict.
    if ("results" in doc && "verdict" in doc) return [{ kind: "verify", report: readVerifyBatchReport(doc) }];
    if ("results" in doc) return [{ kind: "check", report: readCheckReport(doc) }];
    if ("environment" in doc && "checks" in doc) return [{ kind: "verify", report: readVerifyReport(doc) }];
    if ("verifications" in doc && "checks" in doc) {
        return [
            { kind: "check", report: readCheckReport(doc.checks, "checks") },
            ...arr(doc.verifications, "verifications").map((v, i): ParsedResult => ({
                kind: "verify",
                report: readAnyVerify(v, `verifications[${i}]`),
            })),
        ];
    }
    throw new ResultShapeError(
        "",
        "neither a check result (`oidc-guard check --format json`: has `results`) nor a verify result (`oidc-guard verify --format json`: has `environment` and `checks`, or `verdict` and `results` for several environments)",
    );
}
