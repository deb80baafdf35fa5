/**
 * The `oidc-guard` library entry: verify ESC environments from the Automation API or any script.
 *
 * @example
 * import { verifyEnvironment } from "oidc-guard";
 * const result = await verifyEnvironment("acme/platform/aws-prod", { expectDenied: ["acme/platform/aws-dev"] });
 * if (result.verdict !== "verified") process.exitCode = 1;
 */
export { verifyEnvironment } from "./verify/verify-environment.js";
export { verifyEnvironments, type BatchOptions, type BatchTarget } from "./verify/batch.js";
export { CHECK_IDS, type VerifyOptions, type VerificationResult, type BatchVerificationResult, type VerifyCheck, type RoleSource } from "./verify/types.js";
export { VerifyConfigError, ServiceError, type ServiceErrorKind } from "./verify/errors.js";
export { render as renderVerification, type OutputFormat } from "./verify/render.js";
export type { VerifyReport, VerifyBatchReport, VerifyCheckStatus, ToolInfo } from "./results.js";
