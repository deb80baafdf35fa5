import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROVIDER_TYPES, ROLE_TYPES } from "../../analysis/index.js";
import { clientIdsProperty, trustPolicyProperty } from "./resource-types.js";

describe("resource types", () => {
    it("name the trust policy property of each role type and the client IDs property of each provider type", () => {
        assert.deepEqual(Object.keys(ROLE_TYPES).map(trustPolicyProperty), ["assumeRolePolicy", "assumeRolePolicyDocument"]);
        assert.deepEqual(PROVIDER_TYPES.map(clientIdsProperty), ["clientIdLists", "clientIdList"]);
    });

    it("know no other type, including names every object has", () => {
        for (const type of ["aws:s3/bucket:Bucket", "", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
            assert.equal(trustPolicyProperty(type), undefined, type);
            assert.equal(clientIdsProperty(type), undefined, type);
        }
        assert.equal(trustPolicyProperty("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), undefined);
        assert.equal(clientIdsProperty("aws:iam/role:Role"), undefined);
    });
});
