/**
 * The resource types the pack's policies read, by type token: where a role keeps its trust policy and where an OIDC
 * provider keeps its client IDs. Maps, not objects: a type like `constructor` or `__proto__` is none of them.
 */
import { ROLE_TYPES } from "../../analysis/index.js";

const TRUST_POLICY_PROPERTY: ReadonlyMap<string, string> = new Map(Object.entries(ROLE_TYPES));
const CLIENT_IDS_PROPERTY: ReadonlyMap<string, string> = new Map([
    ["aws:iam/openIdConnectProvider:OpenIdConnectProvider", "clientIdLists"],
    ["aws-native:iam:OidcProvider", "clientIdList"],
]);

/** The property holding a role's trust policy, by resource type token; undefined for other types. */
export function trustPolicyProperty(type: string): string | undefined {
    return TRUST_POLICY_PROPERTY.get(type);
}

/** The property holding an OIDC provider's client IDs, by resource type token; undefined for other types. */
export function clientIdsProperty(type: string): string | undefined {
    return CLIENT_IDS_PROPERTY.get(type);
}
