/**
 * Terraform's machine-readable output (Terraform docs, "JSON Output Format"):
 * - a plan, `terraform show -json <planfile>`: `{format_version, planned_values, resource_changes: [{address, mode,
 *   type, name, change: {actions, before, after, after_unknown, after_sensitive}}], prior_state, configuration}`;
 * - state, `terraform show -json`: `{format_version, values: {root_module: {resources, child_modules: [...]}}}`.
 *
 * Every `aws_iam_role` (`assume_role_policy`, a JSON string) and `aws_iam_openid_connect_provider` (`url`,
 * `client_id_list`, `arn`), and their Cloud Control twins `awscc_iam_role` (`assume_role_policy_document`) and
 * `awscc_iam_oidc_provider`. A value the plan marks in `after_unknown` ("known after apply") is replaced by the
 * engine's unknown sentinel, so the analysis treats it exactly like a Pulumi unknown at preview.
 */
import { ownValue, putOwn, UNKNOWN_SENTINELS } from "oidc-guard-policypack/analysis";
import type { CheckTarget } from "../results.js";
import type { ExtractedInput, InputKind, ProviderItem, RoleItem } from "./inputs.js";

const UNKNOWN = UNKNOWN_SENTINELS[0]!;
/** Child modules nested deeper than this are not followed (Terraform itself nests far less). */
const MAX_MODULE_DEPTH = 100;

type Rec = Record<string, unknown>;

function isRecord(v: unknown): v is Rec {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Role types and the attribute holding the trust policy (a Map: a type like `constructor` is no role). */
const ROLE_ATTRIBUTE: ReadonlyMap<string, string> = new Map([
    ["aws_iam_role", "assume_role_policy"],
    ["awscc_iam_role", "assume_role_policy_document"],
]);
const PROVIDER_TYPES: ReadonlySet<string> = new Set(["aws_iam_openid_connect_provider", "awscc_iam_oidc_provider"]);

/** `terraform show -json <planfile>`. */
export function isTerraformPlan(doc: unknown): doc is Rec {
    return (
        isRecord(doc) &&
        typeof doc.format_version === "string" &&
        (Array.isArray(doc.resource_changes) || isRecord(doc.planned_values) || isRecord(doc.configuration))
    );
}

/** `terraform show -json` of state (an empty state is `{"format_version": "1.0"}` plus `terraform_version`). */
export function isTerraformState(doc: unknown): doc is Rec {
    return (
        isRecord(doc) &&
        typeof doc.format_version === "string" &&
        (isRecord(doc.values) || (typeof doc.terraform_version === "string" && !("resource_changes" in doc)))
    );
}

/** A `.tf` file (HCL), which `check` does not read: the error says how to get the plan JSON instead. */
export function looksLikeTerraformSource(text: string): boolean {
    return /^[ \t]*(?:resource|data|module|provider|variable|output|locals|terraform)(?:[ \t]+"[^"\n]*")*[ \t]*\{/m.test(text);
}

/** Terraform configuration in JSON syntax (`*.tf.json`): `{resource: {<type>: {<name>: {...}}}}` and friends. */
export function isTerraformJsonConfig(doc: unknown): boolean {
    if (!isRecord(doc)) return false;
    const blocks = ["resource", "data", "module", "provider", "variable", "terraform", "locals", "output"];
    const keys = Object.keys(doc);
    return keys.length > 0 && keys.every((k) => blocks.includes(k) || k === "//") && (isRecord(doc.resource) || isRecord(doc.module));
}

export const TF_PLAN_HINT =
    "Terraform source (.tf) is not read; check the plan instead: " +
    "`terraform plan -out plan.tfplan && terraform show -json plan.tfplan > plan.json`, then `oidc-guard check plan.json` " +
    "(or the deployed state: `terraform show -json > state.json`)";

/** Replaces every part of `value` that `unknown` (the `after_unknown` mirror) marks true by the unknown sentinel. */
export function applyUnknown(value: unknown, unknown: unknown): unknown {
    if (unknown === true) return UNKNOWN;
    if (Array.isArray(unknown)) {
        const list = Array.isArray(value) ? value.slice() : [];
        unknown.forEach((u, i) => {
            if (u === true || Array.isArray(u) || isRecord(u)) list[i] = applyUnknown(list[i], u);
        });
        return list;
    }
    if (isRecord(unknown)) {
        const obj: Rec = isRecord(value) ? { ...value } : {};
        for (const [k, u] of Object.entries(unknown)) {
            // Own attributes only, read and written: a `__proto__` attribute is one like any other.
            const current = ownValue(obj, k);
            if (u === true || Array.isArray(u) || isRecord(u)) putOwn(obj, k, applyUnknown(current, u));
        }
        return obj;
    }
    return value;
}

interface TfResource {
    address: string;
    type: string;
    values: Rec;
}

function collect(file: string, kind: InputKind, resources: TfResource[], entries: number): ExtractedInput {
    const roles: RoleItem[] = [];
    const providers: ProviderItem[] = [];
    for (const r of resources) {
        const target: CheckTarget = { file, resource: { urn: r.address, type: r.type, name: r.address } };
        const attribute = ROLE_ATTRIBUTE.get(r.type);
        if (attribute !== undefined) {
            const policy = r.values[attribute];
            roles.push({ target, trustPolicy: policy === null ? undefined : policy, property: attribute });
        } else if (PROVIDER_TYPES.has(r.type)) {
            const url = r.values.url;
            const arn = r.values.arn;
            providers.push({
                target,
                // The AWS provider keeps the URL as configured; state read back from IAM may lack the scheme.
                url: typeof url === "string" && url !== UNKNOWN && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? `https://${url}` : url,
                clientIds: r.values.client_id_list ?? [],
                arn: typeof arn === "string" && arn !== UNKNOWN ? arn : null,
            });
        }
    }
    return {
        kind,
        roles,
        providers,
        stackScoped: true,
        entries,
        ...(kind === "terraform-plan"
            ? {
                  unknownSource: {
                      when: "known only after apply",
                      remediation:
                          "Check the state after `terraform apply` (`terraform show -json > state.json`), or the deployed role with `oidc-guard scan aws`.",
                  },
              }
            : {}),
    };
}

/**
 * A plan: the resources of `resource_changes` that exist after apply (delete-only changes and data sources are left
 * out), with `change.after` masked by `change.after_unknown`. A plan without `resource_changes` (hand-trimmed) is
 * read from `planned_values`.
 */
export function fromTerraformPlan(file: string, doc: Rec): ExtractedInput {
    if (Array.isArray(doc.resource_changes)) {
        const out: TfResource[] = [];
        for (const rc of doc.resource_changes) {
            if (!isRecord(rc) || rc.mode === "data" || typeof rc.type !== "string") continue;
            const change = isRecord(rc.change) ? rc.change : {};
            const actions = Array.isArray(change.actions) ? change.actions : [];
            if (actions.length === 1 && actions[0] === "delete") continue;
            if (!ROLE_ATTRIBUTE.has(rc.type) && !PROVIDER_TYPES.has(rc.type)) continue;
            const values = applyUnknown(isRecord(change.after) ? change.after : {}, change.after_unknown);
            out.push({
                address: typeof rc.address === "string" ? rc.address : `${rc.type}.${String(rc.name)}`,
                type: rc.type,
                values: isRecord(values) ? values : {},
            });
        }
        return collect(file, "terraform-plan", out, doc.resource_changes.length);
    }
    const planned = isRecord(doc.planned_values) ? doc.planned_values : {};
    const all = moduleResources(planned.root_module);
    return collect(file, "terraform-plan", all.filter(relevant), all.length);
}

/** State: `values.root_module` and every child module below it. */
export function fromTerraformState(file: string, doc: Rec): ExtractedInput {
    const values = isRecord(doc.values) ? doc.values : {};
    const all = moduleResources(values.root_module);
    return collect(file, "terraform-state", all.filter(relevant), all.length);
}

function relevant(r: TfResource): boolean {
    return ROLE_ATTRIBUTE.has(r.type) || PROVIDER_TYPES.has(r.type);
}

/** Managed resources of a module and its child modules, walked with an explicit stack (no recursion). */
function moduleResources(root: unknown): TfResource[] {
    const out: TfResource[] = [];
    const stack: { module: unknown; depth: number }[] = [{ module: root, depth: 0 }];
    while (stack.length > 0) {
        const { module, depth } = stack.pop()!;
        if (!isRecord(module)) continue;
        if (Array.isArray(module.resources)) {
            for (const r of module.resources) {
                if (!isRecord(r) || r.mode === "data" || typeof r.type !== "string") continue;
                out.push({
                    address: typeof r.address === "string" ? r.address : `${r.type}.${String(r.name)}`,
                    type: r.type,
                    values: isRecord(r.values) ? r.values : {},
                });
            }
        }
        if (Array.isArray(module.child_modules) && depth < MAX_MODULE_DEPTH) {
            // Reversed, so modules come out in file order.
            for (let i = module.child_modules.length - 1; i >= 0; i--) {
                stack.push({ module: module.child_modules[i], depth: depth + 1 });
            }
        }
    }
    return out;
}
