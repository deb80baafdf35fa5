/** Stack-level check: audiences a role admits must be among its provider's client IDs. (Contract; implementation pending.) */
import type { AnalysisOptions, Finding } from "./types.js";

export interface StackRoleInput {
    urn: string;
    /** The trust policy (string or object). */
    trustPolicy: unknown;
}

export interface StackProviderInput {
    urn: string;
    /** Provider ARN when known (e.g. from state outputs), else null. */
    arn: string | null;
    url: unknown;
    clientIds: unknown;
}

export interface StackAudienceFinding extends Finding {
    /** URN of the role the finding is about. */
    urn: string;
    /** "advisory" when the role trusts a provider outside the stack; "mandatory" for an audience the provider does not list. */
    level: "advisory" | "mandatory";
}

export function analyzeStackAudiences(
    _roles: readonly StackRoleInput[],
    _providers: readonly StackProviderInput[],
    _options: AnalysisOptions = {},
): StackAudienceFinding[] {
    throw new Error("not implemented");
}
