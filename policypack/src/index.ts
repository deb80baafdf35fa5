/**
 * The pulumi-oidc-guard policy pack. The Pulumi CLI runs this (compiled: bin/index.js) in the pack folder; the SDK
 * prints the gRPC port as the first stdout line, so nothing here may print before it.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies/index.js";

new PolicyPack("pulumi-oidc-guard", {
    policies,
    displayName: "Pulumi OIDC guard",
    description:
        "IAM roles that trust Pulumi Cloud's OIDC issuer must pin both aud (the organization) and sub (the exact ESC environments or Deployments stacks); Pulumi OIDC providers must use https and list only the allowed audiences.",
    provider: "aws",
    tags: ["aws", "iam", "oidc", "pulumi"],
    enforcementLevel: "advisory",
});
