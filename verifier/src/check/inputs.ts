/**
 * What `oidc-guard check` can read, detected by content (never by file name), and the roles and OIDC providers
 * each input holds. Nothing here analyses anything: it only finds the trust policies and providers.
 */
import { UNKNOWN_SENTINELS, clientIdsProperty, trustPolicyProperty } from "oidc-guard-policypack/analysis";
import type { CheckTarget } from "../results.js";
import type { DuplicateKey } from "./json.js";
import { canonical } from "./canonical-json.js";
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
    variants?: { assumption: string; trustPolicy: unknown; notes: string[]; duplicates?: readonly DuplicateKey[] }[];
    /** What reading the input assumed (parameter defaults, placeholder account, unresolved intrinsics). */
    notes?: string[];
    /**
     * The keys an object-form trust policy repeats, as the file's JSON reader found them (analyze.ts `readInput`), set
     * only when the file repeats a key somewhere. json.ts keeps them beside the parsed objects in a map of this thread,
     * which a copy to the worker thread does not carry: they travel with the role instead.
     */
    duplicates?: readonly DuplicateKey[];
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
    /**
     * Set when the input says it is incomplete (a `pulumi preview --json` whose program failed): why, and what to do.
     * The input then gets a result of its own with verdict `error`, whatever its roles' verdicts.
     */
    incomplete?: { message: string; remediation: string };
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
            return fromStackResources(file, "stack-export", deployment.resources, deployment.pending_operations);
        }
        const latest = asRecord(asRecord(doc.checkpoint)?.latest);
        if (latest && (Array.isArray(latest.resources) || latest.resources == null)) {
            return fromStackResources(file, "stack-checkpoint", latest.resources, latest.pending_operations);
        }
        if (Array.isArray(doc.steps) || (isRecord(doc.changeSummary) && !("deployment" in doc))) {
            return fromPreview(file, Array.isArray(doc.steps) ? doc.steps : [], doc.diagnostics);
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
    /** Notes for the resource's result (a pending operation, a preview's refresh step). */
    notes?: string[];
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
            // These three keys, in this order, and `notes` only when there are some: a block of such roles goes to
            // the worker thread as columns (parallel.ts `toColumns`).
            const role: RoleItem = { target, trustPolicy: pick(bags, property), property };
            if (r.notes !== undefined) role.notes = r.notes;
            roles.push(role);
        } else if (idsProperty !== undefined) {
            // The configured URL and client IDs (state outputs hold the URL as AWS returns it, without https://);
            // the ARN only exists in outputs.
            const configured = [r.inputs, r.outputs];
            const arn = pick([r.outputs, r.inputs], "arn");
            const provider: ProviderItem = {
                target,
                url: pick(configured, "url"),
                clientIds: pick(configured, idsProperty),
                arn: typeof arn === "string" && !UNKNOWN_SENTINELS.includes(arn) ? arn : null,
            };
            if (r.notes !== undefined) provider.notes = r.notes;
            providers.push(provider);
        }
    }
    return { kind, roles, providers, stackScoped: true, entries: resources.length };
}

/** A stack resource (`{urn, type, inputs, outputs, ...}`), or undefined when it has no URN. */
function stateResource(r: unknown, outputsFirst: boolean): ResourceLike | undefined {
    if (!isRecord(r) || typeof r.urn !== "string") return undefined;
    const type = typeof r.type === "string" ? r.type : typeFromUrn(r.urn);
    return { urn: r.urn, type, inputs: asRecord(r.inputs), outputs: asRecord(r.outputs), outputsFirst };
}

/**
 * Stack export: each resource is `{urn, type, inputs, outputs, ...}`. The trust policy is read from `outputs`
 * (the state as last deployed or refreshed), falling back to `inputs`. The resources of pending operations (an
 * update that was interrupted: `pending_operations: [{resource, type}]`) are checked too ({@link addPending}).
 */
function fromStackResources(file: string, kind: InputKind, resources: unknown, pending: unknown): ExtractedInput {
    const list = Array.isArray(resources) ? resources : [];
    const out: ResourceLike[] = [];
    for (const r of list) {
        const resource = stateResource(r, true);
        if (resource !== undefined) out.push(resource);
    }
    const result = collect(file, kind, out);
    const operations = Array.isArray(pending) ? pending : [];
    if (operations.length > 0) addPending(file, kind, result, operations);
    result.entries = list.length + operations.length;
    return result;
}

/** What a pending operation of each type means for the resource it holds (`type` of `pending_operations[]`). */
const PENDING_MEANING: Record<string, string> = {
    creating: "Pulumi began creating it and the update did not finish: it may exist in AWS although the stack's resources do not list it",
    updating: "Pulumi began updating it to this state and the update did not finish: AWS may hold this state or the one before",
    deleting: "Pulumi began deleting it and the update did not finish: it may still exist in AWS",
    reading: "Pulumi began reading it and the update did not finish",
    importing: "Pulumi began importing it and the update did not finish",
};

/** The note for a resource of a pending operation of type `type` (the input's word, shown bounded). */
function pendingNote(type: unknown): string {
    const known = typeof type === "string" && Object.hasOwn(PENDING_MEANING, type) ? type : undefined;
    const shown = known ?? (typeof type === "string" ? JSON.stringify(type.length > 40 ? `${type.slice(0, 40)}…` : type) : "of no type");
    const meaning = known !== undefined ? PENDING_MEANING[known]! : "the update that began it did not finish";
    return (
        `from a pending operation (${shown}) of an interrupted update: ${meaning}. ` +
        "'pulumi refresh' settles the stack's state; 'oidc-guard scan aws' checks the role as AWS holds it"
    );
}

/**
 * The resources of a stack's pending operations, each checked as a resource of the stack with a note saying so: a
 * role being created may already exist in AWS, one being deleted may still exist. The state a `creating` or `updating`
 * operation holds is what Pulumi was writing (its inputs first); the others hold what exists (outputs first). A
 * resource the stack's resources already list with the same trust policy (or provider settings), as a `deleting`
 * operation's does, is not checked twice: that resource gets the note.
 */
function addPending(file: string, kind: InputKind, result: ExtractedInput, operations: unknown[]): void {
    const resources: ResourceLike[] = [];
    for (const op of operations) {
        const operation = asRecord(op);
        const writing = operation?.type === "creating" || operation?.type === "updating";
        const resource = stateResource(operation?.resource, !writing);
        if (resource === undefined) continue;
        resource.notes = [pendingNote(operation?.type)];
        resources.push(resource);
    }
    const pending = collect(file, kind, resources);
    const rolesByUrn = new Map<string, RoleItem[]>();
    for (const role of result.roles) {
        const urn = role.target.resource!.urn;
        rolesByUrn.set(urn, [...(rolesByUrn.get(urn) ?? []), role]);
    }
    for (const role of pending.roles) {
        const same = rolesByUrn.get(role.target.resource!.urn)?.find((r) => sameValue(r.trustPolicy, role.trustPolicy));
        if (same !== undefined) same.notes = [...(same.notes ?? []), ...role.notes!];
        else result.roles.push(role);
    }
    for (const provider of pending.providers) {
        const same = result.providers.find(
            (p) => p.target.resource!.urn === provider.target.resource!.urn && sameValue([p.url, p.clientIds, p.arn], [provider.url, provider.clientIds, provider.arn]),
        );
        if (same !== undefined) same.notes = [...(same.notes ?? []), ...provider.notes!];
        else result.providers.push(provider);
    }
}

/**
 * Whether two property values are the same JSON (a trust policy text is compared as the document it holds, keys in any
 * order). Not JSON at all: not the same, so both are checked.
 */
function sameValue(a: unknown, b: unknown): boolean {
    return a === b || canonical(documentOf(a)) === canonical(documentOf(b));
}

/** The document a policy text holds (the text itself when it is not JSON), or the value itself. */
function documentOf(v: unknown): unknown {
    if (typeof v !== "string" || !v.trimStart().startsWith("{")) return v;
    try {
        return JSON.parse(v) as unknown;
    } catch {
        return v;
    }
}

/** Step operations whose resource goes away: nothing left to check. */
const GOING_AWAY = new Set(["delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace", "read-discard"]);

/** The step of `pulumi preview --refresh` that reads a resource's state from the cloud before the update is planned. */
const REFRESH = "refresh";

/** A resource's steps in a preview: the first state a planned (non-refresh) step gives it, and its refresh step's. */
interface PreviewResource {
    urn: string;
    /** Set once a planned step is seen: the state it leaves, and that step's op (no state: the resource goes away). */
    planned?: { state: Rec | undefined; op?: unknown };
    refreshed?: Rec;
}

/**
 * `pulumi preview --json`: `{steps: [{op, urn, oldState?, newState?}], diagnostics, changeSummary, ...}`.
 *
 * Each resource is checked once, in the state the update would leave it in: a planned step's `newState`, its
 * `inputs` first (what the program asks for, as the policy pack sees it), falling back to its `outputs` (read
 * steps). A resource in several planned steps (a replacement) is checked in the first that leaves a state; one whose
 * every planned step deletes it is not checked. `pulumi preview --refresh` lists a `refresh` step for every resource
 * first (the state the cloud holds now), and a planned step after it only for what the update changes: the planned
 * step decides; a refresh step alone (or followed by `same`) means the resource stays as refreshed, and that state is
 * checked (its outputs first, as in a stack export). A refresh that found another trust policy than the one the
 * update sets gets a note.
 *
 * A preview whose diagnostics report an error (the program failed) lists only what was registered before it: the
 * input is {@link ExtractedInput.incomplete}.
 */
function fromPreview(file: string, steps: unknown[], diagnostics: unknown): ExtractedInput {
    const byUrn = new Map<string, PreviewResource>();
    for (const s of steps) {
        if (!isRecord(s)) continue;
        const state = asRecord(s.newState);
        const urn = typeof s.urn === "string" ? s.urn : typeof state?.urn === "string" ? state.urn : undefined;
        if (urn === undefined) continue;
        let resource = byUrn.get(urn);
        if (resource === undefined) byUrn.set(urn, (resource = { urn }));
        if (s.op === REFRESH) {
            resource.refreshed ??= state;
            continue;
        }
        resource.planned ??= { state: undefined };
        if (resource.planned.state === undefined && state !== undefined && !(typeof s.op === "string" && GOING_AWAY.has(s.op))) {
            resource.planned = { state, op: s.op };
        }
    }
    const out: ResourceLike[] = [];
    for (const { urn, planned, refreshed } of byUrn.values()) {
        // Left as refreshed: no planned step, or one that leaves the resource as it is (`same`, with `--show-sames`).
        const asRefreshed = refreshed !== undefined && (planned === undefined || planned.op === "same");
        const state = asRefreshed ? refreshed : planned?.state;
        if (state === undefined) continue;
        const type = typeof state.type === "string" ? state.type : typeFromUrn(urn);
        const resource: ResourceLike = { urn, type, inputs: asRecord(state.inputs), outputs: asRecord(state.outputs), outputsFirst: asRefreshed };
        if (!asRefreshed && refreshed !== undefined) {
            const note = refreshNote(type, resource, refreshed);
            if (note !== undefined) resource.notes = [note];
        }
        out.push(resource);
    }
    const result = collect(file, "preview", out);
    result.entries = steps.length;
    const failed = previewErrors(diagnostics);
    if (failed !== undefined) result.incomplete = failed;
    return result;
}

/** A note when a role's refresh step read another trust policy than its planned step sets; undefined otherwise. */
function refreshNote(type: string, planned: ResourceLike, refreshed: Rec): string | undefined {
    const property = trustPolicyProperty(type);
    if (property === undefined) return undefined;
    const now = pick([asRecord(refreshed.outputs), asRecord(refreshed.inputs)], property);
    if (now === undefined || sameValue(now, pick([planned.inputs, planned.outputs], property))) return undefined;
    return (
        "pulumi preview --refresh read another trust policy from the cloud than the one this update sets: this result is for " +
        "the one the update sets, and the role keeps the one it has now until 'pulumi up' runs ('oidc-guard scan aws' checks it)"
    );
}

/** Diagnostic messages are quoted up to this many characters. */
const DIAGNOSTIC_QUOTE_CHARS = 200;

/**
 * Terminal escape sequences (colours, cursor moves, hyperlinks) that a program's output may carry into a diagnostic:
 * removed so the quote reads as the terminal showed it. Any other control character is escaped by each output.
 */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const TERMINAL_ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g;

/**
 * Whether a diagnostic says the preview failed: severity `error` (the engine's, a provider's, the Node.js and Python
 * SDKs' unhandled exceptions), or `info#err` (what the program wrote on its standard error) that starts as an error
 * does (`Error:` from Pulumi YAML, `error:` from Go programs, a Go `panic:`); other standard error output (warnings,
 * deprecation notices) is not.
 */
function isErrorDiagnostic(d: Rec, message: string): boolean {
    if (d.severity === "error") return true;
    return d.severity === "info#err" && /^(?:error\b|panic:|fatal\b)/i.test(message);
}

/**
 * A diagnostic's message as one line: terminal escapes removed, white space collapsed, at most a few hundred
 * characters (read from its start only: a program can write megabytes to standard error).
 */
function diagnosticText(message: unknown): string {
    const start = typeof message === "string" ? message.slice(0, 20 * DIAGNOSTIC_QUOTE_CHARS) : "";
    const text = start.replace(TERMINAL_ESCAPES, "").replace(/\s+/g, " ").trim();
    return text.length > DIAGNOSTIC_QUOTE_CHARS ? `${text.slice(0, DIAGNOSTIC_QUOTE_CHARS)}…` : text;
}

/** Why a preview is incomplete, when its diagnostics report an error; undefined when none does. */
function previewErrors(diagnostics: unknown): ExtractedInput["incomplete"] {
    if (!Array.isArray(diagnostics)) return undefined;
    let first: string | undefined;
    let count = 0;
    for (const d of diagnostics) {
        if (!isRecord(d) || (d.severity !== "error" && d.severity !== "info#err")) continue;
        const text = diagnosticText(d.message);
        if (!isErrorDiagnostic(d, text)) continue;
        first ??= text;
        count++;
    }
    if (first === undefined) return undefined;
    return {
        message:
            `the output of a pulumi preview that failed: its diagnostics report ${count === 1 ? "an error" : `${count} errors`}, ` +
            `the first ${JSON.stringify(first)}. A failed preview lists only the resources the program registered before the error, ` +
            "so roles it leaves out are not checked",
        remediation:
            "Fix the error the preview reports (`pulumi preview` shows it in full), then check the output of a preview that succeeds; " +
            "or check the deployed stack with `pulumi stack export`.",
    };
}
