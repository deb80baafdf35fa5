/**
 * Reading result files back: detect whether a JSON document is a check result, a verify result or a merged report
 * (by shape), and validate it with ajv against the JSON Schema its producer documents (verifier/schemas), so a wrong
 * file fails with a message that names the field (`results[2].verdict: expected one of pass, fail, unknown, error`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ajv as loadAjv } from "../lazy.js";
import type { Verdict } from "oidc-guard-policypack/analysis";
import type { CheckReport, VerifyBatchReport, VerifyReport } from "../results.js";

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

/** verifier/schemas, from src/report (tests) and bin/report (the CLI) alike; the folder ships in the package. */
const SCHEMA_DIR = join(__dirname, "..", "..", "schemas");
const SCHEMA_FILES = ["check-result", "verify-result", "merged-report"] as const;
type SchemaName = "check" | "verify" | "verifyBatch" | "merged";
/** At most this many problems are named in one message. */
const MAX_PROBLEMS = 3;

let validators: Record<SchemaName, ValidateFunction> | undefined;

/** Compiles the three schemas once (they refer to each other by their shared `$id` base). */
function schemas(): Record<SchemaName, ValidateFunction> {
    if (validators) return validators;
    const { Ajv, addFormats } = loadAjv();
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const ids: Record<string, string> = {};
    for (const name of SCHEMA_FILES) {
        const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), "utf8")) as { $id: string };
        ajv.addSchema(schema);
        ids[name] = schema.$id;
    }
    const get = (ref: string): ValidateFunction => {
        const v = ajv.getSchema(ref);
        if (!v) throw new Error(`schema ${ref} not found in ${SCHEMA_DIR}`);
        return v;
    };
    validators = {
        check: get(ids["check-result"]!),
        // A verify result is one of two shapes; validating the one detected gives messages about that shape only.
        verify: get(`${ids["verify-result"]!}#/definitions/VerifyReport`),
        verifyBatch: get(`${ids["verify-result"]!}#/definitions/VerifyBatchReport`),
        merged: get(ids["merged-report"]!),
    };
    return validators;
}

/** `/results/2/target/file` → `results[2].target.file`. */
function showPath(pointer: string): string {
    let out = "";
    for (const raw of pointer.split("/").slice(1)) {
        const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        if (/^\d+$/.test(key)) out += `[${key}]`;
        else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
        else out += `[${JSON.stringify(key)}]`;
    }
    return out;
}

function joinPath(prefix: string, path: string): string {
    if (!prefix) return path;
    if (!path) return prefix;
    return path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`;
}

const TYPE_NAMES: Record<string, string> = {
    object: "an object",
    array: "an array",
    string: "a string",
    integer: "an integer",
    number: "a number",
    boolean: "true or false",
    null: "null",
};

/** One ajv error as `<path>: <problem>`, in the words of the rest of the CLI. */
function describe(e: ErrorObject, prefix: string): string {
    const params = e.params as Record<string, unknown>;
    let path = showPath(e.instancePath);
    let problem: string;
    switch (e.keyword) {
        case "enum":
            problem = `expected one of ${(params.allowedValues as unknown[]).map(String).join(", ")}`;
            break;
        case "const":
            problem = `expected ${JSON.stringify(params.allowedValue)}`;
            break;
        case "type":
            problem = `expected ${String(params.type).split(",").map((t) => TYPE_NAMES[t] ?? t).join(" or ")}`;
            break;
        case "required":
            path = joinPath(path, String(params.missingProperty));
            problem = "missing";
            break;
        case "additionalProperties":
            path = joinPath(path, String(params.additionalProperty));
            problem = "not a field of this result (is the file from another version of oidc-guard?)";
            break;
        default:
            problem = e.message ?? e.keyword;
    }
    return `${joinPath(prefix, path) || "(document)"}: ${problem}`;
}

/** Where an error points: a missing or extra property is the property's own place, not its parent's. */
function pointerOf(e: ErrorObject): string {
    const params = e.params as Record<string, unknown>;
    const key = e.keyword === "required" ? params.missingProperty : e.keyword === "additionalProperties" ? params.additionalProperty : undefined;
    return typeof key !== "string" ? e.instancePath : `${e.instancePath}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/**
 * Validates `doc` against a schema. Errors of a `oneOf` and errors about a value whose own fields have errors are
 * left out, so the message names the innermost problem.
 * @throws ResultShapeError naming at most {@link MAX_PROBLEMS} fields.
 */
function validate(name: SchemaName, doc: unknown, prefix: string): void {
    const v = schemas()[name];
    if (v(doc)) return;
    const errors = (v.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && e.keyword !== "if");
    const deepest = errors.filter((e) => !errors.some((o) => o !== e && pointerOf(o).startsWith(`${pointerOf(e)}/`)));
    // A wrong value first, then what is missing, then what is extra: the first line is usually the one to fix.
    const rank = (e: ErrorObject): number => (e.keyword === "required" ? 1 : e.keyword === "additionalProperties" ? 2 : 0);
    const chosen = (deepest.length > 0 ? deepest : errors).map((e, i) => ({ e, i }));
    chosen.sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i);
    const lines = [...new Set(chosen.map(({ e }) => describe(e, prefix)))];
    if (lines.length === 0) throw new ResultShapeError(prefix, "does not match its schema");
    const shown = lines.slice(0, MAX_PROBLEMS).join("; ");
    const more = lines.length > MAX_PROBLEMS ? ` (and ${lines.length - MAX_PROBLEMS} more)` : "";
    throw new ResultShapeError("", `${shown}${more}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Validates a check result document (`oidc-guard check --format json`) and returns it, with `summary` recounted
 * from the verdicts rather than trusted.
 */
export function readCheckReport(v: unknown, path = ""): CheckReport {
    validate("check", v, path);
    const report = v as CheckReport;
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of report.results) summary[r.verdict]++;
    return { ...report, summary };
}

/** Validates a verify result document (`oidc-guard verify --format json`, one environment) and returns it. */
export function readVerifyReport(v: unknown, path = ""): VerifyReport {
    validate("verify", v, path);
    return v as VerifyReport;
}

/**
 * Validates a verify result over several environments (`oidc-guard verify` with several refs or `--all`), with
 * `summary` recounted from the verdicts.
 */
export function readVerifyBatchReport(v: unknown, path = ""): VerifyBatchReport {
    validate("verifyBatch", v, path);
    const report = v as VerifyBatchReport;
    const summary = { verified: 0, failed: 0, error: 0 };
    for (const r of report.results) summary[r.verdict]++;
    return { ...report, summary };
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
        // The parts first, each against its own shape (precise messages), then the merged document as a whole.
        const checks = readCheckReport(doc.checks, "checks");
        const verifications = Array.isArray(doc.verifications)
            ? doc.verifications.map((v, i) => readAnyVerify(v, `verifications[${i}]`))
            : [];
        validate("merged", doc, "");
        return [
            { kind: "check", report: checks },
            ...verifications.map((report): ParsedResult => ({ kind: "verify", report })),
        ];
    }
    throw new ResultShapeError(
        "",
        "neither a check result (`oidc-guard check --format json`: has `results`) nor a verify result (`oidc-guard verify --format json`: has `environment` and `checks`, or `verdict` and `results` for several environments)",
    );
}
