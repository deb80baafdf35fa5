/**
 * What `oidc-guard check` can read, detected by content (never by file name), and the roles and OIDC providers
 * each input holds. Nothing here analyses anything: it only finds the trust policies and providers.
 */
import { UNKNOWN_SENTINELS, clientIdsProperty, trustPolicyProperty } from "oidc-guard-policypack/analysis";
import type { CheckTarget } from "../results.js";
import { fromTemplate, isCloudFormationTemplate } from "./cloudformation.js";
import { fromTerraformPlan, fromTerraformState, isTerraformJsonConfig, isTerraformPlan, isTerraformState, TF_PLAN_HINT } from "./terraform.js";

/** The input shapes `check` recognizes. */
export type InputKind =
    | "trust-policy"
    | "stack-export"
    | "stack-checkpoint"
    | "preview"
    | "aws-get-role"
    | "aws-list-roles"
    | "aws-authorization-details"
    | "aws-oidc-provider"
    | "aws-account"
    | "cloudformation"
    | "terraform-plan"
    | "terraform-state"
    | "cdk-metadata"
    | "check-result"
    | "unrecognized";

/** The type shown for roles and providers read from AWS CLI output (CloudFormation's names). */
export const AWS_ROLE_TYPE = "AWS::IAM::Role";
export const AWS_OIDC_PROVIDER_TYPE = "AWS::IAM::OIDCProvider";

/** A role found in an input: its trust policy as stored (secrets still wrapped) and where it came from. */
export interface RoleItem {
    target: CheckTarget;
    /** The trust policy (string or object), or `undefined` when the resource has none. */
    trustPolicy: unknown;
    /** The property the trust policy was read from, used to prefix finding paths (`""` for a bare document). */
    property: string;
    /**
     * Set when the trust policy depends on choices the input leaves open (CloudFormation `Fn::If`): each variant is
     * analysed and the worst verdict wins. `trustPolicy` is then the first variant.
     */
    variants?: { assumption: string; trustPolicy: unknown; notes: string[] }[];
    /** What reading the input assumed (parameter defaults, placeholder account, unresolved intrinsics). */
    notes?: string[];
}

/** An IAM OIDC identity provider found in an input. */
export interface ProviderItem {
    target: CheckTarget;
    url: unknown;
    clientIds: unknown;
    /** The provider's ARN when the input records it, else null. */
    arn: unknown;
    notes?: string[];
}

export interface ExtractedInput {
    kind: InputKind;
    roles: RoleItem[];
    providers: ProviderItem[];
    /** True for stack exports and previews: roles and providers belong to one stack (audience cross-check). */
    stackScoped: boolean;
    /** For `unrecognized`: what was expected and what was found. */
    problem?: string;
    /** How many resources (stack, preview) or entries (AWS listings) the input holds. */
    entries: number;
    /**
     * For inputs whose unknowns are not Pulumi preview unknowns (CloudFormation, Terraform plans): when such values
     * get known, and what to do, used in place of the preview wording of unknown findings.
     */
    unknownSource?: { when: string; remediation: string };
    /** Notes about the input as a whole, added to each of its results (a CloudFormation `Transform`, …). */
    notes?: string[];
}

type Rec = Record<string, unknown>;

function isRecord(v: unknown): v is Rec {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Rec | undefined {
    return isRecord(v) ? v : undefined;
}

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` → `<name>` (everything after the third `::`). */
export function nameFromUrn(urn: string): string {
    // Found separator by separator, as `split("::")` finds them, without splitting every URN of a stack into parts.
    let at = -2;
    for (let k = 0; k < 3; k++) {
        at = urn.indexOf("::", at + 2);
        if (at < 0) return urn;
    }
    return urn.slice(at + 2);
}

/** The resource's own type from its URN: the qualified type is `parent$…$type`. */
function typeFromUrn(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** True when a value is (or is shaped like) an IAM policy document: an object with `Statement` or `Version`. */
function isPolicyDocument(v: unknown): boolean {
    return isRecord(v) && ("Statement" in v || (typeof v.Version === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v.Version)));
}

const EXPECTED =
    'expected an IAM trust policy (an object with "Statement", or a JSON string holding one), `pulumi stack export` output, ' +
    "`pulumi preview --json` output, a CloudFormation template (JSON or YAML, or `cdk synth` output), " +
    "`terraform show -json` output (plan or state), or `aws iam get-role` / `list-roles` / " +
    "`get-account-authorization-details` / `get-open-id-connect-provider` output";

function describeFound(v: unknown): string {
    if (Array.isArray(v)) return `found an array of ${v.length} element(s)`;
    if (isRecord(v)) {
        const keys = Object.keys(v);
        if (keys.length === 0) return "found an empty object";
        const shown = keys.slice(0, 6).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k));
        return `found an object with keys ${shown.join(", ")}${keys.length > 6 ? ", …" : ""}`;
    }
    if (typeof v === "string") return "found a JSON string that does not hold a trust policy";
    return `found ${v === null ? "null" : `a ${typeof v}`}`;
}

/** True for the JSON that `oidc-guard check --format json` itself writes. */
export function isCheckResult(v: unknown): boolean {
    const tool = isRecord(v) ? asRecord(v.tool) : undefined;
    if (tool === undefined || tool.name !== "oidc-guard" || !Array.isArray((v as Rec).results)) return false;
    // Unambiguous only: a document that also holds anything else (a Statement, a stack's deployment, AWS listings)
    // is an input that happens to carry these keys, and is checked as one.
    return Object.keys(v as Rec).every((k) => CHECK_RESULT_KEYS.has(k));
}

/** The top-level keys of a check result (`oidc-guard check --format json`; `$schema` when one is added). */
const CHECK_RESULT_KEYS = new Set(["tool", "results", "summary", "$schema"]);

/**
 * Decodes a trust policy document the IAM API returned URL-encoded (RFC 3986, as `GetRole` does; some AWS CLI
 * versions and SDK dumps pass it through undecoded). A document that already reads as JSON is returned unchanged.
 */
export function decodeAwsPolicyDocument(doc: unknown): unknown {
    if (typeof doc !== "string") return doc;
    const t = doc.trim();
    if (t.startsWith("{") || !/%[0-9a-fA-F]{2}/.test(t)) return doc;
    try {
        return decodeURIComponent(t.replace(/\+/g, " "));
    } catch {
        return doc; // not valid percent-encoding: leave it for the analysis to reject
    }
}

/**
 * True for the metadata files `cdk synth` writes beside the templates in `cdk.out/`: `manifest.json`
 * (`{version, artifacts}`), `tree.json` (`{version: "tree-…", tree}`) and `<stack>.assets.json` (`{version, files,
 * dockerImages}`). They hold no roles.
 */
export function isCdkMetadata(v: unknown): boolean {
    if (!isRecord(v) || typeof v.version !== "string") return false;
    if (isRecord(v.artifacts) || (v.version.startsWith("tree-") && isRecord(v.tree))) return true;
    return isRecord(v.files) && isRecord(v.dockerImages);
}

/** Optional facts about the file's text that extraction can use. */
export interface ExtractContext {
    /** Line of each CloudFormation logical id (computed only when the input is a template). */
    resourceLines?: () => ReadonlyMap<string, number>;
}

/** Reads roles and providers out of a parsed input file. `file` is the path shown in targets. */
export function extractInput(file: string, doc: unknown, context: ExtractContext = {}): ExtractedInput {
    const empty = (kind: InputKind, extra: Partial<ExtractedInput> = {}): ExtractedInput => ({
        kind,
        roles: [],
        providers: [],
        stackScoped: false,
        entries: 0,
        ...extra,
    });

    if (isCheckResult(doc)) return empty("check-result");
    if (isCloudFormationTemplate(doc)) {
        return fromTemplate(file, doc as Rec, context.resourceLines?.() ?? new Map<string, number>());
    }
    if (isTerraformPlan(doc)) return fromTerraformPlan(file, doc);
    if (isTerraformState(doc)) return fromTerraformState(file, doc);
    if (isCdkMetadata(doc)) return empty("cdk-metadata");
    if (isTerraformJsonConfig(doc)) {
        return empty("unrecognized", { problem: `Terraform configuration in JSON syntax (.tf.json), not a plan. ${TF_PLAN_HINT}` });
    }

    // A raw trust policy, as an object or as a JSON string holding one.
    if (isPolicyDocument(doc)) {
        return { ...empty("trust-policy", { entries: 1 }), roles: [{ target: { file }, trustPolicy: doc, property: "" }] };
    }
    if (typeof doc === "string") {
        let inner: unknown;
        try {
            inner = JSON.parse(doc);
        } catch {
            inner = undefined;
        }
        // A string holding an object's text is taken as a policy, so that a broken one is reported by the
        // analysis (with where the JSON breaks) rather than as an unrecognized input.
        if (isPolicyDocument(inner) || (inner === undefined && doc.trimStart().startsWith("{"))) {
            return {
                ...empty("trust-policy", { entries: 1 }),
                roles: [{ target: { file }, trustPolicy: doc, property: "" }],
            };
        }
        return empty("unrecognized", { problem: `${EXPECTED}; ${describeFound(doc)}` });
    }

    if (isRecord(doc)) {
        const deployment = asRecord(doc.deployment);
        if (deployment && (Array.isArray(deployment.resources) || deployment.resources == null)) {
            return fromStackResources(file, "stack-export", deployment.resources);
        }
        const latest = asRecord(asRecord(doc.checkpoint)?.latest);
        if (latest && (Array.isArray(latest.resources) || latest.resources == null)) {
            return fromStackResources(file, "stack-checkpoint", latest.resources);
        }
        if (Array.isArray(doc.steps) || (isRecord(doc.changeSummary) && !("deployment" in doc))) {
            return fromPreview(file, Array.isArray(doc.steps) ? doc.steps : []);
        }
        const role = asRecord(doc.Role);
        if (role && "AssumeRolePolicyDocument" in role) {
            return { ...empty("aws-get-role", { entries: 1 }), roles: [awsRole(file, role)] };
        }
        if (Array.isArray(doc.RoleDetailList)) {
            return fromAwsRoleList(file, "aws-authorization-details", doc.RoleDetailList);
        }
        if (Array.isArray(doc.Roles)) return fromAwsRoleList(file, "aws-list-roles", doc.Roles);
        if (typeof doc.Url === "string" && "ClientIDList" in doc) {
            return {
                ...empty("aws-oidc-provider", { entries: 1 }),
                providers: [
                    {
                        target: {
                            file,
                            resource: { urn: doc.Url, type: AWS_OIDC_PROVIDER_TYPE, name: doc.Url },
                        },
                        // IAM stores and returns the URL without its scheme, which is always https.
                        url: /^[a-z][a-z0-9+.-]*:\/\//i.test(doc.Url) ? doc.Url : `https://${doc.Url}`,
                        clientIds: doc.ClientIDList,
                        arn: null,
                    },
                ],
            };
        }
    }
    return empty("unrecognized", { problem: `${EXPECTED}; ${describeFound(doc)}` });
}

function awsRole(file: string, role: Rec): RoleItem {
    const arn = typeof role.Arn === "string" ? role.Arn : "";
    const name = typeof role.RoleName === "string" ? role.RoleName : nameFromArn(arn);
    return {
        target: { file, resource: { urn: arn || name, type: AWS_ROLE_TYPE, name } },
        trustPolicy: decodeAwsPolicyDocument(role.AssumeRolePolicyDocument),
        property: "AssumeRolePolicyDocument",
    };
}

function nameFromArn(arn: string): string {
    return arn.slice(arn.lastIndexOf("/") + 1);
}

function fromAwsRoleList(file: string, kind: InputKind, list: unknown[]): ExtractedInput {
    const roles: RoleItem[] = [];
    list.forEach((entry, i) => {
        if (isRecord(entry)) roles.push(awsRole(file, entry));
        else {
            roles.push({
                target: { file, resource: { urn: `#${i}`, type: AWS_ROLE_TYPE, name: `entry ${i}` } },
                trustPolicy: undefined,
                property: "AssumeRolePolicyDocument",
            });
        }
    });
    return { kind, roles, providers: [], stackScoped: false, entries: list.length };
}


/** The first of `names` present (not undefined/null) in the first of `bags` that has it. */
function pick(bags: readonly (Rec | undefined)[], name: string): unknown {
    for (const bag of bags) {
        const v = bag?.[name];
        if (v !== undefined && v !== null) return v;
    }
    return undefined;
}

interface ResourceLike {
    urn: string;
    type: string;
    inputs: Rec | undefined;
    outputs: Rec | undefined;
    /** Read trust policies from outputs first (stack state) rather than inputs first (preview). */
    outputsFirst: boolean;
}

function collect(file: string, kind: InputKind, resources: ResourceLike[]): ExtractedInput {
    const roles: RoleItem[] = [];
    const providers: ProviderItem[] = [];
    for (const r of resources) {
        const target: CheckTarget = { file, resource: { urn: r.urn, type: r.type, name: nameFromUrn(r.urn) } };
        const property = trustPolicyProperty(r.type);
        const idsProperty = clientIdsProperty(r.type);
        if (property !== undefined) {
            const bags = r.outputsFirst ? [r.outputs, r.inputs] : [r.inputs, r.outputs];
            roles.push({ target, trustPolicy: pick(bags, property), property });
        } else if (idsProperty !== undefined) {
            // The configured URL and client IDs (state outputs hold the URL as AWS returns it, without https://);
            // the ARN only exists in outputs.
            const configured = [r.inputs, r.outputs];
            const arn = pick([r.outputs, r.inputs], "arn");
            providers.push({
                target,
                url: pick(configured, "url"),
                clientIds: pick(configured, idsProperty),
                arn: typeof arn === "string" && !UNKNOWN_SENTINELS.includes(arn) ? arn : null,
            });
        }
    }
    return { kind, roles, providers, stackScoped: true, entries: resources.length };
}

/**
 * Stack export: each resource is `{urn, type, inputs, outputs, ...}`. The trust policy is read from `outputs`
 * (the state as last deployed or refreshed), falling back to `inputs`.
 */
function fromStackResources(file: string, kind: InputKind, resources: unknown): ExtractedInput {
    const list = Array.isArray(resources) ? resources : [];
    const out: ResourceLike[] = [];
    for (const r of list) {
        if (!isRecord(r) || typeof r.urn !== "string") continue;
        const type = typeof r.type === "string" ? r.type : typeFromUrn(r.urn);
        out.push({ urn: r.urn, type, inputs: asRecord(r.inputs), outputs: asRecord(r.outputs), outputsFirst: true });
    }
    const result = collect(file, kind, out);
    result.entries = list.length;
    return result;
}

/** Step operations whose resource goes away: nothing left to check. */
const GOING_AWAY = new Set(["delete", "delete-replaced", "discard", "remove-pending-replace", "read-discard"]);

/**
 * `pulumi preview --json`: `{steps: [{op, urn, oldState?, newState?}], changeSummary, ...}`. The trust policy is
 * read from `newState.inputs` (what the program asks for, as the policy pack sees it), falling back to
 * `newState.outputs` (read steps). A resource that appears in several steps (replacements) is checked once.
 */
function fromPreview(file: string, steps: unknown[]): ExtractedInput {
    const seen = new Set<string>();
    const out: ResourceLike[] = [];
    for (const s of steps) {
        if (!isRecord(s)) continue;
        if (typeof s.op === "string" && GOING_AWAY.has(s.op)) continue;
        const state = asRecord(s.newState);
        if (!state) continue;
        const urn = typeof s.urn === "string" ? s.urn : typeof state.urn === "string" ? state.urn : undefined;
        if (urn === undefined || seen.has(urn)) continue;
        seen.add(urn);
        const type = typeof state.type === "string" ? state.type : typeFromUrn(urn);
        out.push({ urn, type, inputs: asRecord(state.inputs), outputs: asRecord(state.outputs), outputsFirst: false });
    }
    const result = collect(file, "preview", out);
    result.entries = steps.length;
    return result;
}
