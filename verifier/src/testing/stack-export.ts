/** What the check tests' made-up stack exports share: the account, its Pulumi provider, and their resources' URNs. */

export const ACCOUNT = "123456789012";
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
/** The Pulumi issuer's provider in another account: not the stack's (an advisory from the audience check). */
export const OTHER_PROVIDER_ARN = "arn:aws:iam::999999999999:oidc-provider/api.pulumi.com/oidc";

/** A resource's URN in the stack `prod` of the project `big`. */
export function exportUrn(type: string, name: string): string {
    return `urn:pulumi:prod::big::${type}::${name}`;
}

/** The stack's OIDC provider for Pulumi, listing the audiences `aws:acme` and `acme`, as a stack export holds it. */
export function pulumiProviderResource(): Record<string, unknown> {
    return {
        urn: exportUrn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "pulumi-oidc"),
        type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        inputs: { clientIdLists: ["aws:acme", "acme"], url: "https://api.pulumi.com/oidc" },
        outputs: { arn: PROVIDER_ARN, clientIdLists: ["aws:acme", "acme"], url: "api.pulumi.com/oidc" },
    };
}
