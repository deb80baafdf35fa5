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

/** A `Federated` principal value, as it relates to one issuer. */
export type FederatedMatch =
    /** The issuer's provider ARN, well formed. */
    | { match: "exact" }
    /** Read as the issuer's provider although not a well-formed ARN (placeholder account, malformed ARN). */
    | { match: "reading"; reading: string }
    /** A placeholder that may or may not resolve to the issuer's provider. */
    | { match: "unresolved" }
    | { match: "no" };

const PLACEHOLDER = /\$\{[^}]*\}|\{\{[^}]*\}\}|<[^>]*>/;

/**
 * How a `Federated` value relates to `issuer`. A placeholder (`${AWS::AccountId}`, `${var.x}`, `{{ x }}`) in the
 * account or partition does not matter (a role can only use its own account's provider); one in the provider
 * path, or a principal that is a placeholder as a whole, cannot be told apart. A malformed ARN whose provider path
 * is the issuer's is read as naming it: the reading that lets more in.
 */
export function matchFederated(value: string, issuer: string): FederatedMatch {
    if (value === "*") return { match: "no" };
    const strict = parseProviderArn(value);
    if (strict && !PLACEHOLDER.test(value)) return strict.issuer === issuer ? { match: "exact" } : { match: "no" };
    const at = value.indexOf("oidc-provider/");
    if (at >= 0) {
        const path = value.slice(at + "oidc-provider/".length);
        if (PLACEHOLDER.test(path)) return { match: "unresolved" };
        if (normalizeIssuer(path) !== issuer) return { match: "no" };
        return PLACEHOLDER.test(value)
            ? { match: "reading", reading: `the principal "${value}" holds a placeholder outside its provider path; it is read as this account's ${issuer} provider` }
            : { match: "reading", reading: `the principal "${value}" is not a well-formed provider ARN; it is read as naming the ${issuer} provider (the reading that lets more in)` };
    }
    if (PLACEHOLDER.test(value)) return { match: "unresolved" };
    if (normalizeIssuer(value) === issuer) {
        return { match: "reading", reading: `the principal "${value}" is an issuer URL, not a provider ARN; it is read as naming the ${issuer} provider (the reading that lets more in)` };
    }
    return { match: "no" };
}
