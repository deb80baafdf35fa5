/**
 * Checks of an IAM OIDC provider for a Pulumi issuer: the URL must use https, and the client ID list (the audiences
 * STS accepts from that issuer) must hold only the allowed audiences. Pure: no @pulumi imports.
 * AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
 */
import { DEFAULT_ISSUERS } from "./constants.js";
import { normalizeIssuer } from "./principal.js";
import { rule } from "./rules.js";
import type { AnalysisOptions, Finding, PulumiToken, Verdict } from "./types.js";
import { findUnknowns } from "./unknowns.js";

export interface ProviderInput {
    /** The provider's `url` as given (e.g. `https://api.pulumi.com/oidc`). */
    url: unknown;
    /** `clientIdLists` (aws) / `clientIdList` (aws-native). */
    clientIds: unknown;
    /** Property name used in finding paths for the client IDs. Default `clientIdLists` (the aws provider's name). */
    clientIdsProperty?: string;
}

export interface ProviderAnalysis {
    /** `pass` also when the provider is not for a Pulumi issuer (see `isPulumiIssuer`). */
    verdict: Verdict;
    isPulumiIssuer: boolean;
    /** Normalized issuer, e.g. `api.pulumi.com/oidc`; null when the URL cannot be read. */
    issuer: string | null;
    findings: Finding[];
}

/** A Pulumi organization name as it appears in audiences and subjects (no wildcards, no separators). */
const ORG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * The audiences a Pulumi issuer may send to AWS for the configured organizations: `aws:<org>` (ESC `aws-login`)
 * and `<org>` (Deployments, legacy `default` project). `options.audiences` replaces the derived list. Null when
 * neither is configured.
 */
export function allowedAudiences(options: AnalysisOptions): string[] | null {
    if (options.audiences && options.audiences.length > 0) return [...options.audiences];
    if (options.organizations && options.organizations.length > 0) {
        return options.organizations.flatMap((org) => [`aws:${org}`, org]);
    }
    return null;
}

/** True when the normalized issuer is one of the configured Pulumi issuers (default DEFAULT_ISSUERS). */
export function isPulumiIssuer(issuer: string, options: AnalysisOptions = {}): boolean {
    const issuers = options.issuers && options.issuers.length > 0 ? options.issuers : DEFAULT_ISSUERS;
    const normalized = normalizeIssuer(issuer);
    return issuers.some((i) => normalizeIssuer(i) === normalized);
}

/**
 * `fn::open::oidc` issuers (`.../oidc/v2`) let the environment author choose the audience, so organization-derived
 * audiences say nothing there: their client IDs are only checked against explicitly configured `audiences`.
 */
function isAuthorChosenAudienceIssuer(issuer: string): boolean {
    return /\/v2$/.test(issuer);
}

/** A token a provider with this client ID lets through (for the finding's counterexample). */
function tokenFor(issuer: string, aud: string): PulumiToken {
    const esc = /^aws:(.+)$/.exec(aud);
    const org = esc ? esc[1]! : aud;
    const sub = esc
        ? `pulumi:environments:org:${org}:env:any-project/any-environment`
        : `pulumi:deploy:org:${org}:project:any-project:stack:any-stack:operation:update:scope:write`;
    return { issuer, aud, sub };
}

/**
 * Analyzes an OIDC provider. Providers for other issuers pass with `isPulumiIssuer: false`. A value unknown at
 * preview gives verdict `unknown` (with a finding saying which); a malformed value gives `error` (fail closed).
 */
export function analyzeOidcProvider(input: ProviderInput, options: AnalysisOptions = {}): ProviderAnalysis {
    const meta = rule("oidc-provider-config");
    const idsProp = input.clientIdsProperty ?? "clientIdLists";
    const finding = (message: string, path: string, counterexample: PulumiToken | null = null): Finding => ({
        ruleId: meta.id,
        severity: meta.severity,
        message,
        path,
        location: {},
        remediation: meta.remediation,
        counterexample,
    });

    const urlUnknown = findUnknowns(input.url, "url");
    if (urlUnknown.length > 0) {
        return {
            verdict: "unknown",
            isPulumiIssuer: false,
            issuer: null,
            findings: [finding("The provider's url is unknown during preview; it is checked at update.", "url")],
        };
    }
    if (typeof input.url !== "string" || input.url.trim() === "") {
        return {
            verdict: "error",
            isPulumiIssuer: false,
            issuer: null,
            findings: [
                finding(
                    `The provider's url must be a non-empty string, got ${describe(input.url)}; cannot tell whether it is a Pulumi issuer.`,
                    "url",
                ),
            ],
        };
    }
    const issuer = normalizeIssuer(input.url);
    if (!isPulumiIssuer(issuer, options)) {
        return { verdict: "pass", isPulumiIssuer: false, issuer, findings: [] };
    }

    const findings: Finding[] = [];
    const scheme = SCHEME.exec(input.url.trim());
    if (!scheme || scheme[1]!.toLowerCase() !== "https") {
        findings.push(
            finding(
                `The provider url '${input.url}' for Pulumi issuer ${issuer} must use https (got ${scheme ? `'${scheme[1]!}://'` : "no scheme"}). Set url to 'https://${issuer}'.`,
                "url",
            ),
        );
    }

    const idsUnknown = findUnknowns(input.clientIds, idsProp);
    if (idsUnknown.length > 0) {
        findings.push(
            finding(`The provider's ${idsUnknown.join(", ")} is unknown during preview; it is checked at update.`, idsProp),
        );
        return { verdict: "unknown", isPulumiIssuer: true, issuer, findings };
    }
    const ids = input.clientIds ?? [];
    if (!Array.isArray(ids) || !ids.every((v): v is string => typeof v === "string")) {
        findings.push(finding(`${idsProp} must be a list of strings, got ${describe(ids)}.`, idsProp));
        return { verdict: "error", isPulumiIssuer: true, issuer, findings };
    }

    const allowed = allowedAudiences(options);
    const authorChosen = isAuthorChosenAudienceIssuer(issuer);
    ids.forEach((id, i) => {
        const path = `${idsProp}[${i}]`;
        if (allowed && (!authorChosen || options.audiences)) {
            if (!allowed.includes(id)) {
                findings.push(
                    finding(
                        `Client ID '${id}' of the ${issuer} provider is not an allowed audience (allowed: ${allowed.map((a) => `'${a}'`).join(", ")}): every role trusting this provider without its own aud pin admits tokens with aud '${id}'. Remove it from ${idsProp}.`,
                        path,
                        tokenFor(issuer, id),
                    ),
                );
            }
        } else if (!authorChosen) {
            // No organization configured: only the shape can be judged. A Pulumi audience is `<org>` or `aws:<org>`.
            const org = id.startsWith("aws:") ? id.slice(4) : id;
            if (!ORG_NAME.test(org)) {
                findings.push(
                    finding(
                        `Client ID '${id}' of the ${issuer} provider is not a Pulumi audience ('<org>' or 'aws:<org>'). Remove it from ${idsProp}, and configure 'organizations' so the pack can check the list exactly.`,
                        path,
                        tokenFor(issuer, id),
                    ),
                );
            }
        }
    });
    return { verdict: findings.length > 0 ? "fail" : "pass", isPulumiIssuer: true, issuer, findings };
}

function describe(v: unknown): string {
    if (v === undefined) return "nothing";
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list with non-string items";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
