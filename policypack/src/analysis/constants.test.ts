import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTROL_CHARACTER, PROVIDER_TYPES, ROLE_TYPES, clientIdsProperty, showControl, trustPolicyProperty } from "./constants.js";

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

describe("control characters", () => {
    it("are C0, DEL, C1, the line separators and the bidi controls, each shown as an escape", () => {
        const shown = ["\u0000", "\u0007", "\n", "\r", "\t", "\u001b", "\u007f", "\u0085", "\u009b", "\u2028", "\u2029", "\u200e", "\u202e", "\u2066"];
        for (const c of shown) assert.ok(CONTROL_CHARACTER.test(c), JSON.stringify(c));
        assert.deepEqual(shown.map(showControl), ["\\x00", "\\x07", "\\n", "\\r", "\\t", "\\x1b", "\\x7f", "\\x85", "\\x9b", "\\u2028", "\\u2029", "\\u200e", "\\u202e", "\\u2066"]);
        for (const c of [" ", "a", "é", "\u00a0", "日", "\u200b", "%"]) assert.ok(!CONTROL_CHARACTER.test(c), JSON.stringify(c));
    });

    it("include every character Unicode gives the Bidi_Control property (U+061C ARABIC LETTER MARK too)", () => {
        const bidi = /\p{Bidi_Control}/u;
        let found = 0;
        for (let cp = 0; cp <= 0xffff; cp++) {
            const c = String.fromCharCode(cp);
            if (!bidi.test(c)) continue;
            found++;
            assert.ok(CONTROL_CHARACTER.test(c), `U+${cp.toString(16).padStart(4, "0")}`);
        }
        assert.equal(found, 12);
        assert.equal(showControl("\u061c"), "\\u061c");
    });
});
