/** Checks of an IAM OIDC provider for a Pulumi issuer. (Contract; implementation pending.) */
import type { AnalysisOptions, Finding, Verdict } from "./types.js";

export interface ProviderInput {
    /** The provider's `url` as given (e.g. `https://api.pulumi.com/oidc`). */
    url: unknown;
    /** `clientIdLists` (aws) / `clientIdList` (aws-native). */
    clientIds: unknown;
}

export interface ProviderAnalysis {
    /** `pass` also when the provider is not for a Pulumi issuer (see `isPulumiIssuer`). */
    verdict: Verdict;
    isPulumiIssuer: boolean;
    /** Normalized issuer, e.g. `api.pulumi.com/oidc`; null when the URL cannot be read. */
    issuer: string | null;
    findings: Finding[];
}

export function analyzeOidcProvider(_input: ProviderInput, _options: AnalysisOptions = {}): ProviderAnalysis {
    throw new Error("not implemented");
}
