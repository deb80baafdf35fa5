/**
 * Analysis options for `oidc-guard check`: a Pulumi `--policy-pack-config` file, then the command-line flags.
 * The file is the one `pulumi preview/up --policy-pack-config` takes:
 * `{"all": "advisory", "pulumi-oidc-role-trust-pinned": {"enforcementLevel": "mandatory", "organizations": [...]}}`.
 */
import { normalizeIssuer, RULES, SUBJECT_SCOPES, type AnalysisOptions, type SubjectScope } from "oidc-guard-policypack/analysis";
import { CliError, EXIT } from "../io.js";
import { describeJsonProblem, parseJson } from "./json.js";
import { InputReadError, readTextFile } from "../read.js";

/** The settings `check` reads from each policy's entry in the config file, and their meaning. */
export const SETTINGS = ["organizations", "audiences", "allowedSubjects", "issuers"] as const;
type Setting = (typeof SETTINGS)[number];

/** The one setting that is a single string rather than a list. */
const SCOPE_SETTING = "subjectScope";

/** Settings every policy entry may carry that `check` has no use for. */
const IGNORED_SETTINGS = new Set(["enforcementLevel"]);
const ENFORCEMENT_LEVELS = new Set(["advisory", "mandatory", "remediate", "disabled"]);

/** The pack's policy names, from the rule catalog. */
const POLICY_NAMES: ReadonlySet<string> = new Set(RULES.map((r) => r.policy));

/** What the flags asked for: every list flag may be repeated. */
export interface OptionFlags {
    config?: string;
    orgs: string[];
    issuers: string[];
    allowSubjects: string[];
    audiences: string[];
    /** `--time-budget-ms`: the analysis time budget per document. */
    timeBudgetMs?: number;
    /** `--subject-scope project|environment`. */
    subjectScope?: string;
}

/** Settings as read from a config file, plus warnings about entries it ignored. */
export interface ConfigSettings {
    settings: Record<Setting, string[]>;
    /** `subjectScope` from the file, when a policy entry sets it. */
    subjectScope?: SubjectScope;
    warnings: string[];
    /** `timeBudgetMs` of the pack config (the smallest, when several policies set it). */
    timeBudgetMs?: number;
}

/** Largest time budget per document: 10 minutes (the pack's config schema has the same bound). */
export const MAX_TIME_BUDGET_MS = 600_000;

/** Parses a time budget in ms (1..MAX_TIME_BUDGET_MS); undefined when it is not one. */
export function parseTimeBudget(v: unknown): number | undefined {
    const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v;
    return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_TIME_BUDGET_MS ? n : undefined;
}

function emptySettings(): Record<Setting, string[]> {
    return { organizations: [], audiences: [], allowedSubjects: [], issuers: [] };
}

/** A policy pack config file is a few KB; anything past 16 MiB is refused while reading. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * Reads a policy pack config file. Settings found under any of this pack's policies are merged (union), so a
 * file that puts `organizations` on one policy and `issuers` on another means what it says.
 * Throws {@link CliError} (exit 2) naming the file and the problem.
 */
export function readConfigFile(path: string, shownAs: string): ConfigSettings {
    let text: string;
    try {
        text = readTextFile(path, MAX_CONFIG_BYTES);
    } catch (e) {
        throw new CliError(`--config ${shownAs}: cannot read: ${errnoMessage(e)}`, EXIT.usage);
    }
    const parsed = parseJson(text);
    if (!parsed.ok) {
        throw new CliError(`--config ${shownAs}: not valid JSON: ${describeJsonProblem(parsed.problem)}`, EXIT.usage);
    }
    return settingsFromConfig(parsed.value, shownAs);
}

/** Validates and merges the settings of a parsed config file (see {@link readConfigFile}). */
export function settingsFromConfig(doc: unknown, shownAs: string): ConfigSettings {
    const bad = (what: string): CliError =>
        new CliError(
            `--config ${shownAs}: ${what}\nhint: the file is a Pulumi --policy-pack-config file: ` +
                `{"pulumi-oidc-role-trust-pinned": {"organizations": ["<org>"], "allowedSubjects": [...], "issuers": [...], "audiences": [...]}}`,
            EXIT.usage,
        );
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        throw bad(`expected a JSON object, found ${Array.isArray(doc) ? "an array" : doc === null ? "null" : `a ${typeof doc}`}`);
    }
    const settings = emptySettings();
    const warnings: string[] = [];
    let timeBudgetMs: number | undefined;
    let subjectScope: SubjectScope | undefined;
    for (const [key, entry] of Object.entries(doc as Record<string, unknown>)) {
        if (key === "all") {
            const level =
                typeof entry === "string"
                    ? entry
                    : typeof entry === "object" && entry !== null && "enforcementLevel" in entry
                      ? (entry).enforcementLevel
                      : undefined;
            if (typeof level !== "string" || !ENFORCEMENT_LEVELS.has(level)) {
                throw bad(`"all" must be an enforcement level (${[...ENFORCEMENT_LEVELS].join(", ")})`);
            }
            continue;
        }
        if (!POLICY_NAMES.has(key)) {
            warnings.push(`--config ${shownAs}: ignoring "${key}": not a policy of this pack (${[...POLICY_NAMES].join(", ")})`);
            continue;
        }
        if (typeof entry === "string") {
            if (!ENFORCEMENT_LEVELS.has(entry)) throw bad(`"${key}" must be an enforcement level or an object`);
            continue;
        }
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            throw bad(`"${key}" must be an object of settings`);
        }
        for (const [name, value] of Object.entries(entry as Record<string, unknown>)) {
            if (IGNORED_SETTINGS.has(name)) continue;
            if (name === "timeBudgetMs") {
                const ms = typeof value === "number" ? parseTimeBudget(value) : undefined;
                if (ms === undefined) throw bad(`"${key}.${name}" must be a whole number of milliseconds from 1 to ${MAX_TIME_BUDGET_MS}`);
                timeBudgetMs = Math.min(timeBudgetMs ?? ms, ms);
                continue;
            }
            if (name === SCOPE_SETTING) {
                if (typeof value !== "string" || !(SUBJECT_SCOPES as readonly string[]).includes(value)) {
                    throw bad(`"${key}.${name}" must be one of ${SUBJECT_SCOPES.map((x) => `"${x}"`).join(", ")}`);
                }
                if (subjectScope !== undefined && subjectScope !== value) {
                    throw bad(`"${key}.${name}" is "${value}" but another policy sets "${subjectScope}": one scope applies to all`);
                }
                subjectScope = value as SubjectScope;
                continue;
            }
            if (!(SETTINGS as readonly string[]).includes(name)) {
                warnings.push(`--config ${shownAs}: ignoring unknown setting "${key}.${name}" (known: ${[...SETTINGS, SCOPE_SETTING].join(", ")})`);
                continue;
            }
            if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
                throw bad(`"${key}.${name}" must be an array of non-empty strings`);
            }
            for (const v of value as string[]) settings[name as Setting].push(v);
        }
    }
    return {
        settings,
        warnings,
        ...(timeBudgetMs !== undefined ? { timeBudgetMs } : {}),
        ...(subjectScope !== undefined ? { subjectScope } : {}),
    };
}

/** Checks an organization name: a Pulumi org name has no spaces, colons or glob characters. */
function checkOrg(org: string, source: string): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(org)) {
        throw new CliError(
            `${source}: '${org}' is not a Pulumi organization name (letters, digits, '.', '_' and '-' only)`,
            EXIT.usage,
        );
    }
}

function uniq(values: readonly string[]): string[] {
    return [...new Set(values)];
}

/**
 * Builds the analysis options: config file settings, then flags (lists are joined, duplicates dropped).
 * `issuers` replaces the default issuers (api.pulumi.com/oidc and api.pulumi.com/oidc/v2) when given at all.
 */
export function buildOptions(file: ConfigSettings | undefined, flags: OptionFlags): AnalysisOptions {
    const s = file?.settings ?? emptySettings();
    for (const v of flags.orgs) checkOrg(v, "--org");
    for (const v of s.organizations) checkOrg(v, "--config organizations");
    // Empty flag values never get here: the argument parser (args.ts) refuses them like missing ones.

    const options: AnalysisOptions = {};
    const organizations = uniq([...s.organizations, ...flags.orgs]);
    const audiences = uniq([...s.audiences, ...flags.audiences]);
    const allowedSubjects = uniq([...s.allowedSubjects, ...flags.allowSubjects]);
    const issuers = uniq([...s.issuers, ...flags.issuers].map(normalizeIssuer));
    if (organizations.length > 0) options.organizations = organizations;
    if (audiences.length > 0) options.audiences = audiences;
    if (allowedSubjects.length > 0) options.allowedSubjects = allowedSubjects;
    if (issuers.length > 0) options.issuers = issuers;
    const budget = flags.timeBudgetMs ?? file?.timeBudgetMs;
    if (budget !== undefined) options.timeBudgetMs = budget;
    if (flags.subjectScope !== undefined) {
        if (!(SUBJECT_SCOPES as readonly string[]).includes(flags.subjectScope)) {
            throw new CliError(
                `--subject-scope must be ${SUBJECT_SCOPES.join(" or ")}, not '${flags.subjectScope}'`,
                EXIT.usage,
            );
        }
        options.subjectScope = flags.subjectScope as SubjectScope;
    } else if (file?.subjectScope !== undefined) {
        options.subjectScope = file.subjectScope;
    }
    return options;
}

/** `ENOENT: no such file or directory, open 'x'` → `no such file or directory`. */
export function errnoMessage(e: unknown): string {
    const code = typeof e === "object" && e !== null && "code" in e ? String((e).code) : "";
    switch (code) {
        case "ENOENT":
            return "no such file or directory";
        case "EACCES":
        case "EPERM":
            return "permission denied";
        case "EISDIR":
            return "is a directory";
        case "ENOTDIR":
        case "EEXIST":
            return "a parent of the path is not a directory";
        default:
            if (e instanceof InputReadError) return e.message;
            return e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e);
    }
}
