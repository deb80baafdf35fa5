import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PolicyResource } from "@pulumi/policy";
import { stackInputs } from "./stack-inputs.js";

const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";

function resource(type: string, name: string, props: Record<string, unknown>): PolicyResource {
    return { type, name, urn: `urn:pulumi:dev::p::${type}::${name}`, props } as unknown as PolicyResource;
}

describe("stackInputs", () => {
    it("reads roles by their trust policy property and providers by their client IDs property", () => {
        const inputs = stackInputs([
            resource("aws:iam/role:Role", "r", { assumeRolePolicy: "{}" }),
            resource("aws-native:iam:Role", "n", { assumeRolePolicyDocument: { Version: "2012-10-17" } }),
            resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "p", { arn: PROVIDER_ARN, url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] }),
            resource("aws-native:iam:OidcProvider", "q", { url: "https://api.pulumi.com/oidc", clientIdList: ["acme"] }),
            resource("aws:s3/bucket:Bucket", "b", { arn: "arn:aws:s3:::b" }),
        ]);
        assert.deepEqual(inputs.roles.map((r) => r.trustPolicy), ["{}", { Version: "2012-10-17" }]);
        assert.deepEqual([...inputs.propertyOf.values()], ["assumeRolePolicy", "assumeRolePolicyDocument"]);
        assert.deepEqual(inputs.providers.map((p) => [p.arn, p.clientIds]), [
            [PROVIDER_ARN, ["aws:acme"]],
            [null, ["acme"]],
        ]);
    });

    it("a type that names a property every object has is no role and no provider", () => {
        const props = { arn: PROVIDER_ARN, url: "https://api.pulumi.com/oidc", assumeRolePolicy: "{}" };
        const inputs = stackInputs(["constructor", "__proto__", "toString", "hasOwnProperty"].map((t) => resource(t, "x", props)));
        assert.deepEqual([inputs.roles.length, inputs.providers.length], [0, 0]);
    });
});
