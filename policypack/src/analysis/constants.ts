/**
 * Domain constants. Sources: Pulumi docs "Configuring OpenID Connect for AWS"
 * (https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/ and
 * https://www.pulumi.com/docs/pulumi-cloud/deployments/oidc/aws/), AWS IAM User Guide
 * ("IAM JSON policy elements: Condition operators").
 */

/** Pulumi Cloud's OIDC issuer for `fn::open::aws-login` and Deployments. */
export const PULUMI_ISSUER = "api.pulumi.com/oidc";
/** The issuer of `fn::open::oidc` (author-chosen audiences, ID-based subjects). */
export const PULUMI_ISSUER_V2 = "api.pulumi.com/oidc/v2";
export const DEFAULT_ISSUERS: readonly string[] = [PULUMI_ISSUER, PULUMI_ISSUER_V2];

export const WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity";

/** Sentinels the Pulumi engine uses for values unknown at preview (@pulumi/policy proxy.js; pulumi/pulumi sdk/go/common/resource/plugin/rpc.go). */
export const UNKNOWN_SENTINELS: readonly string[] = [
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
];

export const DOCS_URL = "https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/";
export const DEPLOYMENTS_DOCS_URL = "https://www.pulumi.com/docs/pulumi-cloud/deployments/oidc/aws/";
export const IAM_CONDITIONS_URL =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html";

/** The project's repository (`repository.url` in the root package.json; a test keeps the two equal). */
export const REPOSITORY_URL = "https://github.com/pulumi-oidc-guard/pulumi-oidc-guard";
/** Where the rule pages live: one `docs/rules/<rule id>.md` per rule, on the main branch. */
export const DOCS_BASE_URL = `${REPOSITORY_URL}/blob/main/docs/rules/`;

/** The stable documentation URL of a rule: its page under docs/rules/. */
export function ruleDocsUrl(ruleId: string): string {
    return `${DOCS_BASE_URL}${ruleId}.md`;
}

/** Resource type tokens the pack and the CLI match on. */
export const ROLE_TYPES = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws-native:iam:Role": "assumeRolePolicyDocument",
} as const satisfies Record<string, string>;
export const PROVIDER_TYPES = ["aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws-native:iam:OidcProvider"] as const;

// Maps, not objects: a type like `constructor` or `__proto__` is none of these.
const TRUST_POLICY_PROPERTY: ReadonlyMap<string, string> = new Map(Object.entries(ROLE_TYPES));
const CLIENT_IDS_PROPERTY: ReadonlyMap<string, string> = new Map([
    ["aws:iam/openIdConnectProvider:OpenIdConnectProvider", "clientIdLists"],
    ["aws-native:iam:OidcProvider", "clientIdList"],
]);

/** The property holding a role's trust policy, by resource type token ({@link ROLE_TYPES}); undefined for other types. */
export function trustPolicyProperty(type: string): string | undefined {
    return TRUST_POLICY_PROPERTY.get(type);
}

/** The property holding an OIDC provider's client IDs, by resource type token; undefined for other types. */
export function clientIdsProperty(type: string): string | undefined {
    return CLIENT_IDS_PROPERTY.get(type);
}

/**
 * One control character, as both the CLI's output escaping (verifier/src/escape.ts) and the pack's messages
 * (policies/support/display.ts) define it: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F, NEL included), the line and
 * paragraph separators U+2028/U+2029, and the bidirectional controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069: every Bidi_Control) that
 * can make a terminal or a page show text other than what it holds.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * The in-line workflow commands of CI runners, as both the CLI's output escaping and the pack's messages break them:
 * GitHub Actions' older `##[command]` form, which its runner reads wherever it stands in a line
 * (`ActionCommand.TryParse` looks for the first `##[`), and Azure Pipelines' `##vso[` (also anywhere, in any case).
 * Group 1 is `vso` when it is there.
 */
const CI_INLINE_COMMAND = /##(vso)?\[/gi;

/**
 * `text` with the `[` of every in-line CI command ({@link CI_INLINE_COMMAND}: `##[`, `##vso[`) written as `bracket`,
 * the `##` and a `vso` kept as they stand; `text` itself when it has no `##`.
 */
export function breakInlineCommands(text: string, bracket: string): string {
    return text.includes("##") ? text.replace(CI_INLINE_COMMAND, (_m, vso: string | undefined) => `##${vso ?? ""}${bracket}`) : text;
}

const NAMED_CONTROLS: ReadonlyMap<string, string> = new Map([
    ["\n", "\\n"],
    ["\r", "\\r"],
    ["\t", "\\t"],
]);

/** A control character ({@link CONTROL_CHARACTER}) shown as an escape: `\n`, `\r`, `\t` by name, else `\x1b` or `\u202e`. */
export function showControl(ch: string): string {
    const named = NAMED_CONTROLS.get(ch);
    if (named !== undefined) return named;
    const c = ch.charCodeAt(0);
    return c < 0x100 ? `\\x${c.toString(16).padStart(2, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
}
