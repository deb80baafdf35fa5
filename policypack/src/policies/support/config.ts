/**
 * The configuration every policy of the pack accepts (`--policy-pack-config` or the Pulumi Cloud console), its JSON
 * Schema, and its mapping to the analysis options. The engine fills schema defaults and validates against the
 * schema before the pack sees anything; the checks here catch what the schema cannot express (unknown keys).
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { DEFAULT_TIME_BUDGET_MS, normalizeIssuer, SUBJECT_SCOPES, type AnalysisOptions, type SubjectScope } from "../../analysis/index.js";
import { PolicyPackError } from "./sdk.js";

/** The policy configuration as the policies read it with `args.getConfig<OidcGuardConfig>()`. */
export interface OidcGuardConfig {
    /** Pulumi organizations whose tokens may get in; default: the organization of the stack being deployed. */
    organizations?: string[];
    /** Globs (StringLike syntax) of the subjects roles may admit; replaces the default subject scope. */
    allowedSubjects?: string[];
    /** Issuer hosts/paths treated as Pulumi issuers (self-hosted Pulumi Cloud); default `api.pulumi.com/oidc` and `.../oidc/v2`. */
    issuers?: string[];
    /** Allowed audiences; replaces `aws:<org>` and `<org>` derived from the organizations. */
    audiences?: string[];
    /** Time budget per trust policy in ms; a document not decided within it gets verdict `error` (default 2000). */
    timeBudgetMs?: number;
    /** "project" (default): project-wide subjects pass with an advisory; "environment": only named environments/stacks pass. */
    subjectScope?: SubjectScope;
}

/** Largest accepted time budget per document: 10 minutes. */
export const MAX_TIME_BUDGET_MS = 600_000;

/** A Pulumi organization name: no wildcards, separators or spaces (it is spliced into audiences and subjects). */
export const ORGANIZATION_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
const ORGANIZATION_NAME = new RegExp(ORGANIZATION_PATTERN);
/** An audience is a literal: a wildcard here would allow every audience. */
export const AUDIENCE_PATTERN = "^[^\\s*?]+$";
/** `api.pulumi.com/oidc`, `https://pulumi.example.com:8443/oidc`: host[:port][/path], optional https scheme. */
export const ISSUER_PATTERN = "^(https://)?[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s*?]*)?$";

const KNOWN_KEYS: readonly string[] = ["organizations", "allowedSubjects", "issuers", "audiences", "timeBudgetMs", "subjectScope"];

/** The `configSchema` of every policy in the pack. Every list needs an item: an empty list would silently allow all or nothing. */
export const CONFIG_SCHEMA: PolicyConfigSchema = {
    properties: {
        organizations: {
            type: "array",
            items: { type: "string", pattern: ORGANIZATION_PATTERN },
            minItems: 1,
            uniqueItems: true,
            description:
                "Pulumi organizations whose OIDC tokens may assume roles (audiences aws:<org> and <org>). Default: the organization of the stack being deployed.",
        },
        allowedSubjects: {
            type: "array",
            items: { type: "string", minLength: 1 },
            minItems: 1,
            uniqueItems: true,
            description:
                "StringLike globs of the sub claims roles may admit, e.g. pulumi:environments:org:acme:env:infra/*. Replaces the default subject scope.",
        },
        issuers: {
            type: "array",
            items: { type: "string", pattern: ISSUER_PATTERN },
            minItems: 1,
            uniqueItems: true,
            description:
                "Issuers treated as Pulumi Cloud's (host/path, e.g. pulumi.example.com/oidc for self-hosted). Default: api.pulumi.com/oidc and api.pulumi.com/oidc/v2.",
        },
        audiences: {
            type: "array",
            items: { type: "string", pattern: AUDIENCE_PATTERN },
            minItems: 1,
            uniqueItems: true,
            description: "Allowed audiences, literal. Replaces aws:<org> and <org> derived from organizations.",
        },
        timeBudgetMs: {
            type: "integer",
            minimum: 1,
            maximum: MAX_TIME_BUDGET_MS,
            description: `Time budget per trust policy in milliseconds; a document not decided within it is reported as an error (fails closed). Default: ${DEFAULT_TIME_BUDGET_MS}.`,
        },
        subjectScope: {
            type: "string",
            enum: [...SUBJECT_SCOPES],
            default: "project",
            description:
                'How far a subject may reach inside one organization: "project" (default) allows every environment or stack of one named project and reports it as advisory; "environment" allows only named environments or stacks (any operation). Organization-wide subjects, the shared <yaml> subject and subject-attribute subjects without an environment always fail.',
        },
    },
};

/** Where the engine puts the organization of the stack being deployed (DOMAIN.md §3). */
function stackOrganization(env: NodeJS.ProcessEnv): string | undefined {
    const org = env["PULUMI_ORGANIZATION"] || env["PULUMI_NODEJS_ORGANIZATION"];
    return org && ORGANIZATION_NAME.test(org) ? org : undefined;
}

function stringList(policyName: string, config: Record<string, unknown>, key: string): string[] | undefined {
    const v = config[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x): x is string => typeof x === "string" && x !== "")) {
        throw new PolicyPackError(
            `policy pack config for '${policyName}': '${key}' must be a non-empty list of non-empty strings.`,
        );
    }
    return v;
}

/**
 * Maps a policy's configuration to analysis options. Unknown keys are refused (a misspelt `organisations` would
 * otherwise fall back to the defaults without a word); so are values of the wrong type, should a caller skip the
 * engine's schema validation. Without `organizations`, the stack's organization from the environment is used.
 */
export function analysisOptions(
    policyName: string,
    config: Record<string, unknown>,
    env: NodeJS.ProcessEnv = process.env,
): AnalysisOptions {
    const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.includes(k));
    if (unknown.length > 0) {
        throw new PolicyPackError(
            `policy pack config for '${policyName}': unknown propert${unknown.length > 1 ? "ies" : "y"} ${unknown.map((k) => `'${k}'`).join(", ")}; known: ${KNOWN_KEYS.join(", ")}.`,
        );
    }
    const options: AnalysisOptions = {};
    const organizations = stringList(policyName, config, "organizations");
    const org = stackOrganization(env);
    if (organizations) options.organizations = organizations;
    else if (org) options.organizations = [org];
    const allowedSubjects = stringList(policyName, config, "allowedSubjects");
    if (allowedSubjects) options.allowedSubjects = allowedSubjects;
    const issuers = stringList(policyName, config, "issuers");
    if (issuers) options.issuers = issuers.map(normalizeIssuer);
    const audiences = stringList(policyName, config, "audiences");
    if (audiences) options.audiences = audiences;
    const budget = config["timeBudgetMs"];
    if (budget !== undefined) {
        if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1 || budget > MAX_TIME_BUDGET_MS) {
            throw new PolicyPackError(
                `policy pack config for '${policyName}': 'timeBudgetMs' must be a whole number of milliseconds from 1 to ${MAX_TIME_BUDGET_MS}.`,
            );
        }
        options.timeBudgetMs = budget;
    }
    const scope = config["subjectScope"];
    if (scope !== undefined) {
        if (typeof scope !== "string" || !(SUBJECT_SCOPES as readonly string[]).includes(scope)) {
            throw new PolicyPackError(
                `policy pack config for '${policyName}': 'subjectScope' must be one of ${SUBJECT_SCOPES.map((x) => `"${x}"`).join(", ")}.`,
            );
        }
        options.subjectScope = scope as SubjectScope;
    }
    return options;
}
