/**
 * The checks of `oidc-guard verify`, as rules for the reports (`esc-verify/<check id>`). They are not pack policies
 * (`policy` names the command) and the pack never reports them, so they live with the verifier, not in the analysis
 * core that ships inside the pack. Each `url` is the check's page, docs/rules/esc-verify/<check id>.md.
 */
import { ruleDocsUrl, type RuleMeta } from "oidc-guard-policypack/analysis";

/** The prefix of a verify check's rule id: `esc-verify/<check id>`. */
export const VERIFY_RULE_PREFIX = "esc-verify/";

const VERIFY = "oidc-guard verify";
const VERIFY_TAGS = ["esc", "verify"];
export const VERIFY_RULES: readonly RuleMeta[] = [
    {
        id: "esc-verify/environment-opens",
        policy: VERIFY,
        title: "The ESC environment opens",
        description: "Opening the environment succeeds; a failed `fn::open::aws-login` is HTTP 400 with diagnostics.",
        severity: "high",
        remediation:
            "Read the diagnostics: an AssumeRoleWithWebIdentity denial means the role's trust policy does not admit this environment's token (`aud` `aws:<org>`, `sub` `pulumi:environments:org:<org>:env:<project>/<env>`); a MaxSessionDuration error means the login duration exceeds the role's.",
        url: ruleDocsUrl("esc-verify/environment-opens"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/credentials-present",
        policy: VERIFY,
        title: "AWS credentials are present",
        description: "The opened environment holds AWS credentials under the aws-login output and/or environmentVariables.AWS_*.",
        severity: "high",
        remediation: "Open `fn::open::aws-login` in the environment and export its outputs under `environmentVariables`.",
        url: ruleDocsUrl("esc-verify/credentials-present"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/credentials-agree",
        policy: VERIFY,
        title: "Both places hold the same credentials",
        description: "`environmentVariables.AWS_*` reference the aws-login output instead of stale pasted values.",
        severity: "medium",
        remediation: "Set `AWS_ACCESS_KEY_ID: ${aws.login.accessKeyId}` (and the secret and session token) instead of literal values.",
        url: ruleDocsUrl("esc-verify/credentials-agree"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/credentials-temporary",
        policy: VERIFY,
        title: "The credentials are temporary",
        description: "An `ASIA…` access key id with a session token (STS), not a long-lived `AKIA…` IAM user key.",
        severity: "critical",
        remediation: "Replace static keys with `fn::open::aws-login` and OIDC (`oidc.roleArn`), and deactivate the IAM user key.",
        url: ruleDocsUrl("esc-verify/credentials-temporary"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/credentials-secret",
        policy: VERIFY,
        title: "Secrets are flagged secret",
        description: "The secret access key and session token are marked secret in the opened environment.",
        severity: "medium",
        remediation: "Wrap literal secrets in `fn::secret`; values from aws-login are secret already.",
        url: ruleDocsUrl("esc-verify/credentials-secret"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/credentials-expiry",
        policy: VERIFY,
        title: "Expiry is in the future and within the requested duration",
        description: "When the environment exposes an expiry, it lies after now and within the open duration.",
        severity: "low",
        remediation: "Align `oidc.duration` with the role's MaxSessionDuration.",
        url: ruleDocsUrl("esc-verify/credentials-expiry"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/sts-caller-identity",
        policy: VERIFY,
        title: "The credentials work (STS GetCallerIdentity)",
        description: "GetCallerIdentity signed with exactly these credentials returns an assumed-role ARN.",
        severity: "high",
        remediation: "Check the role still exists and its session policy; re-open the environment to get fresh credentials.",
        url: ruleDocsUrl("esc-verify/sts-caller-identity"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/expected-role",
        policy: VERIFY,
        title: "The credentials belong to the expected role",
        description: "The assumed role is the one given with --role-arn, read from stack outputs or from the environment definition.",
        severity: "high",
        remediation: "Point the environment's `oidc.roleArn` at the intended role.",
        url: ruleDocsUrl("esc-verify/expected-role"),
        tags: VERIFY_TAGS,
    },
    {
        id: "esc-verify/expect-denied",
        policy: VERIFY,
        title: "Environments that must not get in are refused",
        description:
            "Opening an environment named with --expect-denied fails with AccessDenied on AssumeRoleWithWebIdentity: the runtime proof that the role pins `sub`.",
        severity: "critical",
        remediation:
            "Pin `api.pulumi.com/oidc:sub` with StringEquals to the allowed environments in the role's trust policy (`oidc-guard check` shows a token that gets in).",
        url: ruleDocsUrl("esc-verify/expect-denied"),
        tags: VERIFY_TAGS,
    },
];
