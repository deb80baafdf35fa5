/**
 * Issuers and provider ARNs. An IAM OIDC provider ARN is
 * `arn:<partition>:iam::<account>:oidc-provider/<host>[/<path>]`, and its condition keys are `<host>[/<path>]:<claim>`.
 */

export interface ProviderArn {
    partition: string;
    account: string;
    /** `<host>[/<path>]`, host lower-cased. */
    issuer: string;
}

const PROVIDER_ARN = /^arn:([a-z0-9-]+):iam::(\d{12}|\*):oidc-provider\/(.+)$/i;

/** Parses a provider ARN; null when the string is not one. */
export function parseProviderArn(arn: string): ProviderArn | null {
    const m = PROVIDER_ARN.exec(arn.trim());
    if (!m) return null;
    return { partition: m[1]!.toLowerCase(), account: m[2]!, issuer: normalizeIssuer(m[3]!) };
}

/**
 * `https://API.pulumi.com/oidc/` → `api.pulumi.com/oidc`: scheme and trailing slash dropped, host lower-cased
 * (host names are case-insensitive; the path is not).
 */
export function normalizeIssuer(issuer: string): string {
    let s = issuer.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
    s = s.replace(/\/+$/, "");
    const slash = s.indexOf("/");
    return slash < 0 ? s.toLowerCase() : s.slice(0, slash).toLowerCase() + s.slice(slash);
}

export function issuerMatches(a: string, b: string): boolean {
    return normalizeIssuer(a) === normalizeIssuer(b);
}
