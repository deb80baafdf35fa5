/** The analysis core's public surface. Pure TypeScript: no @pulumi/* imports anywhere under analysis/. */
export * from "./types.js";
export * from "./constants.js";
export * from "./rules.js";
export { ownValue, putOwn } from "./own.js";
export { analyzeTrustPolicy, DEFAULT_TIME_BUDGET_MS, PolicyDocumentError } from "./trust-policy.js";
export { admittedOfRead, analysisFromTemplate, analysisOfRead, markedAnalysis, principalsOfRead, templateRead, templateReader, mark, MARK_START, type TemplateOf, type TemplateRead } from "./templates.js";
export type { Names } from "./canonical.js";
export { parseProviderArn, issuerMatches, normalizeIssuer, type ProviderArn } from "./principal.js";
export { findUnknowns } from "./unknowns.js";
export { BoundedCache } from "./automata.js";
export {
    analyzeOidcProvider,
    allowedAudiences,
    isPulumiIssuer,
    type ProviderInput,
    type ProviderAnalysis,
} from "./provider.js";
export { analyzeStackAudiences, stackAudienceCheck, type StackRoleInput, type StackProviderInput, type StackAudienceFinding } from "./stack.js";
