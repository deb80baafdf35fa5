/** Stack resources (AnalyzeStack outputs) shared by the stack policy tests and the engine-protocol tests. */
export const ACCOUNT = "123456789012";
export const PULUMI_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
export const ROLE_TYPE = "aws:iam/role:Role";
export const PROVIDER_TYPE = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";

/** A trust policy for the Pulumi provider with the given conditions. */
export function trustPolicy(condition: unknown, federated: unknown = PULUMI_PROVIDER_ARN): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: federated },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: condition,
            },
        ],
    };
}

/** Pinned to ESC environment acme/infra/dev with aud `aws:acme`. */
export const PINNED = trustPolicy({
    StringEquals: {
        "api.pulumi.com/oidc:aud": "aws:acme",
        "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/dev",
    },
});

/** The public example's shape: aud only. */
export const AUD_ONLY = trustPolicy({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } });

/** The role's outputs as AnalyzeStack sees them (AWS returns the policy as a JSON string). */
export function roleOutputs(policy: unknown, name = "esc-role"): Record<string, unknown> {
    return {
        arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
        name,
        assumeRolePolicy: typeof policy === "string" ? policy : JSON.stringify(policy),
    };
}

/** The provider's outputs. */
export function providerOutputs(clientIds: unknown, arn: unknown = PULUMI_PROVIDER_ARN): Record<string, unknown> {
    return { arn, url: "https://api.pulumi.com/oidc", clientIdLists: clientIds, thumbprintLists: [] };
}
