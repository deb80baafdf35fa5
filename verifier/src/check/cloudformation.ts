/**
 * CloudFormation templates (JSON or YAML, as written by hand or by `cdk synth`): every `AWS::IAM::Role`'s
 * `AssumeRolePolicyDocument` and every `AWS::IAM::OIDCProvider`.
 *
 * Intrinsic functions are resolved where the template itself decides them (CloudFormation User Guide, "Intrinsic
 * function reference" and "Pseudo parameters reference"):
 * - `Ref` to a parameter with a `Default` gives the default (a note says so: a deployment may override it);
 *   `Ref`/`Fn::GetAtt …Arn` of an `AWS::IAM::OIDCProvider` in the same template gives its ARN,
 *   `arn:<partition>:iam::<account>:oidc-provider/<url host+path>`;
 * - `Fn::Sub` (both forms), `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64`;
 * - pseudo parameters `AWS::Partition` (`aws`), `AWS::URLSuffix` and `AWS::AccountId`, read as the placeholder account
 *   {@link PLACEHOLDER_ACCOUNT}: the account in a provider ARN does not decide whether a Pulumi token gets in;
 * - `Fn::If`: both branches are considered (each condition a trust policy depends on is taken true and false, and the
 *   worst outcome is the verdict), since conditions usually depend on parameters a deployment chooses.
 * Everything else (`Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`, `Ref` to a parameter without a default or to another
 * resource, `AWS::StackName`, …) is unknown: it is replaced by the engine's unknown sentinel, so the analysis gives
 * `unknown` (never `pass`) when such a value is part of the trust policy.
 */
import { ownValue as own, putOwn, UNKNOWN_SENTINELS } from "oidc-guard-policypack/analysis";
import type { Node as YamlNode, ScalarTag, CollectionTag, YAMLMap, YAMLSeq } from "yaml";
import { yaml } from "../lazy.js";
import { PositionTree } from "../report/locate.js";
import type { CheckTarget } from "../results.js";
import type { ExtractedInput, ProviderItem, RoleItem } from "./inputs.js";
import { describeDuplicateKey, duplicateKeysOf, keepDuplicateKeys, LineIndex } from "./json.js";

/** The account a provider ARN gets when the template builds it from `${AWS::AccountId}`. */
export const PLACEHOLDER_ACCOUNT = "123456789012";
const UNKNOWN = UNKNOWN_SENTINELS[0]!;
/** `AWS::NoValue`: removes the property or list element it stands for. */
const NO_VALUE: unique symbol = Symbol("AWS::NoValue");
/** At most this many conditions are enumerated per trust policy (2^n variants); more make the `Fn::If`s unknown. */
const MAX_CONDITIONS = 4;
/** Intrinsics nested deeper than this are unknown (fails closed on pathological templates). */
const MAX_DEPTH = 64;

type Rec = Record<string, unknown>;

/** OIDC provider resource types and the property holding their client IDs (a Map: a type like `constructor` is none). */
const PROVIDER_CLIENT_IDS: ReadonlyMap<string, string> = new Map([
    ["AWS::IAM::OIDCProvider", "ClientIdList"],
    // aws-cdk-lib `iam.OpenIdConnectProvider` (L2) is a custom resource with these properties.
    ["Custom::AWSCDKOpenIdConnectProvider", "ClientIDList"],
]);

function isRecord(v: unknown): v is Rec {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The short-form tags and the long form each stands for. */
const SHORT_TAGS: readonly (readonly [string, string])[] = [
    ["Ref", "Ref"],
    ["Sub", "Fn::Sub"],
    ["GetAtt", "Fn::GetAtt"],
    ["Join", "Fn::Join"],
    ["If", "Fn::If"],
    ["Select", "Fn::Select"],
    ["Split", "Fn::Split"],
    ["FindInMap", "Fn::FindInMap"],
    ["Equals", "Fn::Equals"],
    ["Not", "Fn::Not"],
    ["And", "Fn::And"],
    ["Or", "Fn::Or"],
    ["Condition", "Condition"],
    ["ImportValue", "Fn::ImportValue"],
    ["GetAZs", "Fn::GetAZs"],
    ["Base64", "Fn::Base64"],
    ["Cidr", "Fn::Cidr"],
    ["Transform", "Fn::Transform"],
    ["Length", "Fn::Length"],
    ["ToJsonString", "Fn::ToJsonString"],
];

/** YAML custom tags: `!Ref x` → `{Ref: "x"}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`, `!If [c, a, b]` → `{"Fn::If": [...]}`. */
export const CFN_YAML_TAGS: (ScalarTag | CollectionTag)[] = SHORT_TAGS.flatMap(([short, long]) => {
    const tag = `!${short}`;
    const scalar: ScalarTag = {
        tag,
        resolve: (s: string) => {
            if (long === "Fn::GetAtt") {
                const dot = s.indexOf(".");
                return { [long]: dot < 0 ? [s] : [s.slice(0, dot), s.slice(dot + 1)] };
            }
            return { [long]: s };
        },
    };
    const seq: CollectionTag = {
        tag,
        collection: "seq",
        resolve: (node) => ({ [long]: (node as YAMLSeq).toJSON() as unknown }),
    };
    const map: CollectionTag = {
        tag,
        collection: "map",
        resolve: (node) => ({ [long]: (node as YAMLMap).toJSON() as unknown }),
    };
    return [scalar, seq, map];
});

/**
 * True for an `Fn::ForEach::<name>` entry of `Resources` (the `AWS::LanguageExtensions` transform): a list of the
 * identifier, the collection and the fragment each item of the collection makes resources from.
 */
function isForEachLoop(id: string, entry: unknown): boolean {
    return id.startsWith("Fn::ForEach::") && Array.isArray(entry);
}

/**
 * True for a CloudFormation template (or `cdk synth` output): a `Resources` map of `{Type: "<ns>::…"}` entries, and
 * `Fn::ForEach::<name>` loops, which make such entries when the template is processed (or an empty `Resources`
 * beside an `AWSTemplateFormatVersion`).
 */
export function isCloudFormationTemplate(doc: unknown): boolean {
    if (!isRecord(doc) || !isRecord(doc.Resources)) return false;
    let entries = 0;
    let typed = false;
    let loops = false;
    for (const [id, r] of Object.entries(doc.Resources)) {
        entries++;
        if (isForEachLoop(id, r)) loops = true;
        else if (!isRecord(r) || typeof r.Type !== "string") return false;
        else if (/^[A-Za-z0-9]+::/.test(r.Type)) typed = true;
    }
    return typed || loops || (entries === 0 && typeof doc.AWSTemplateFormatVersion === "string");
}

/**
 * A cheap look at text that is not JSON: could it be a YAML CloudFormation template? A top-level
 * `AWSTemplateFormatVersion` or `Resources` key, plain or quoted, after a byte-order mark too.
 */
export function looksLikeYamlTemplate(text: string): boolean {
    return /^\uFEFF?(["']?)(?:AWSTemplateFormatVersion|Resources)\1[ \t]*:/m.test(text);
}

/** The result of reading a YAML template: the value and the line of each resource's logical id. */
export type YamlTemplate =
    | { ok: true; value: unknown; resourceLines: Map<string, number> }
    | { ok: false; message: string; line: number; column: number };

/** Parses YAML with CloudFormation's short-form tags. Aliases are bounded by the library (maxAliasCount 100). */
export function parseYamlTemplate(text: string): YamlTemplate {
    const lineCounter = new (yaml().LineCounter)();
    let doc;
    try {
        doc = yaml().parseDocument(text, { customTags: CFN_YAML_TAGS, lineCounter, prettyErrors: false, uniqueKeys: true });
    } catch (e) {
        return { ok: false, message: e instanceof Error ? e.message : String(e), line: 1, column: 1 };
    }
    const err = doc.errors[0];
    if (err) {
        const pos = lineCounter.linePos(err.pos[0]);
        return { ok: false, message: err.message.split("\n")[0] ?? "invalid YAML", line: pos.line, column: pos.col };
    }
    let value: unknown;
    try {
        value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
        return { ok: false, message: e instanceof Error ? e.message : String(e), line: 1, column: 1 };
    }
    const resourceLines = new Map<string, number>();
    const resources = yaml().isMap(doc.contents) ? doc.contents.get("Resources", true) : undefined;
    if (yaml().isMap(resources)) {
        for (const pair of resources.items) {
            const key = pair.key as YamlNode | null;
            if (yaml().isScalar(key) && typeof key.value === "string" && key.range) {
                resourceLines.set(key.value, lineCounter.linePos(key.range[0]).line);
            }
        }
    }
    return { ok: true, value, resourceLines };
}

/**
 * Lines of each resource's logical id in a JSON template, read off the template's position columns (no object per
 * value). `parsed`: `JSON.parse` has accepted the text (its byte order mark aside), so it is not parsed again.
 */
export function jsonResourceLines(text: string, parsed = false): Map<string, number> {
    const lines = new Map<string, number>();
    const offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const tree = PositionTree.ofJson(offset === 1 ? text.slice(1) : text, parsed);
    if (tree === null || tree.kind(0) !== "object") return lines;
    // The first `Resources`, as the walk over the objects took.
    let resources = -1;
    for (const c of tree.children(0)) {
        if (tree.key(c) === "Resources") {
            resources = c;
            break;
        }
    }
    if (resources < 0 || tree.kind(resources) !== "object") return lines;
    const lineIndex = new LineIndex(text);
    for (const c of tree.children(resources)) {
        const key = tree.key(c)!;
        if (!lines.has(key)) lines.set(key, lineIndex.at(tree.keyStart(c) + offset).line);
    }
    return lines;
}

/** What resolving one value found out, for the notes of its result. */
interface Resolution {
    /** Parameters taken at their default. */
    defaults: Set<string>;
    /** Intrinsics that stay unknown, described (`Fn::ImportValue`, `Ref AWS::StackName`, …). */
    unknowns: Set<string>;
    /** Conditions `Fn::If` asked for that have no assignment (too many to enumerate). */
    conditions: Set<string>;
    /** Whether `${AWS::AccountId}` was read as the placeholder account. */
    account: boolean;
}

function newResolution(): Resolution {
    return { defaults: new Set(), unknowns: new Set(), conditions: new Set(), account: false };
}

class Template {
    readonly parameters: Rec;
    readonly mappings: Rec;
    readonly resources: Rec;
    constructor(doc: Rec) {
        this.parameters = isRecord(doc.Parameters) ? doc.Parameters : {};
        this.mappings = isRecord(doc.Mappings) ? doc.Mappings : {};
        this.resources = isRecord(doc.Resources) ? doc.Resources : {};
    }

    /**
     * The ARN an OIDC provider of this template gets (`AWS::IAM::OIDCProvider`, or CDK's
     * `Custom::AWSCDKOpenIdConnectProvider`, whose `Ref` is the ARN too), or undefined when its URL is not known.
     */
    providerArn(logicalId: string, res: Resolution, depth: number): string | undefined {
        const r = own(this.resources, logicalId);
        if (!isRecord(r) || typeof r.Type !== "string" || !PROVIDER_CLIENT_IDS.has(r.Type)) return undefined;
        const props = isRecord(r.Properties) ? r.Properties : {};
        const url = this.resolve(props.Url, res, new Map(), depth + 1);
        if (typeof url !== "string" || url.includes(UNKNOWN)) return undefined;
        res.account = true;
        const hostPath = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "");
        return `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:oidc-provider/${hostPath}`;
    }

    private ref(name: string, res: Resolution, depth: number): unknown {
        switch (name) {
            case "AWS::Partition":
                return "aws";
            case "AWS::URLSuffix":
                return "amazonaws.com";
            case "AWS::AccountId":
                res.account = true;
                return PLACEHOLDER_ACCOUNT;
            case "AWS::NoValue":
                return NO_VALUE;
        }
        if (name.startsWith("AWS::")) {
            res.unknowns.add(`Ref ${name}`);
            return UNKNOWN;
        }
        const param = own(this.parameters, name);
        if (isRecord(param)) {
            if (typeof param.Type === "string" && param.Type.startsWith("AWS::SSM::Parameter::Value<")) {
                // The default names an SSM parameter; its value is read at deployment.
                res.unknowns.add(`Ref ${name} (an SSM parameter value)`);
                return UNKNOWN;
            }
            if (param.Default === undefined) {
                res.unknowns.add(`Ref ${name} (a parameter without a default)`);
                return UNKNOWN;
            }
            res.defaults.add(name);
            const type = typeof param.Type === "string" ? param.Type : "String";
            const value = typeof param.Default === "number" || typeof param.Default === "boolean" ? String(param.Default) : param.Default;
            if (/^(?:CommaDelimitedList|List<)/.test(type) && typeof value === "string") {
                return value.split(",").map((s) => s.trim());
            }
            return value;
        }
        const arn = this.providerArn(name, res, depth);
        if (arn !== undefined) return arn;
        res.unknowns.add(`Ref ${name}`);
        return UNKNOWN;
    }

    /**
     * Resolves intrinsics in `v`. `branches` says which way each condition goes; a condition it does not list
     * makes its `Fn::If` unknown. Unknown parts become the unknown sentinel (inside strings: the whole string
     * carries it).
     */
    resolve(v: unknown, res: Resolution, branches: ReadonlyMap<string, boolean>, depth = 0): unknown {
        if (depth > MAX_DEPTH) {
            res.unknowns.add("intrinsics nested too deeply");
            return UNKNOWN;
        }
        if (Array.isArray(v)) {
            const out: unknown[] = [];
            for (const e of v) {
                const r = this.resolve(e, res, branches, depth + 1);
                if (r !== NO_VALUE) out.push(r);
            }
            return out;
        }
        if (!isRecord(v)) return v;
        const keys = Object.keys(v);
        // A loop inside a value makes its keys when the template is processed: the object is not known here.
        const loop = keys.find((k) => k.startsWith("Fn::ForEach::"));
        if (loop !== undefined) {
            res.unknowns.add(`${loop} (Fn::ForEach is not expanded here)`);
            return UNKNOWN;
        }
        // An intrinsic written twice in one object (`Fn::Sub` twice) is copied as an object, which keeps the duplicate.
        if (keys.length === 1 && duplicateKeysOf(v).length === 0) {
            const key = keys[0]!;
            const arg = v[key];
            if (key === "Ref" && typeof arg === "string") return this.ref(arg, res, depth);
            if (key.startsWith("Fn::")) return this.intrinsic(key, arg, res, branches, depth);
        }
        const out: Rec = {};
        for (const k of keys) {
            const r = this.resolve(v[k], res, branches, depth + 1);
            if (r !== NO_VALUE) putOwn(out, k, r);
        }
        // A key the object repeats is as ambiguous in the copy: the analysis reports it (an error, as for a bare policy).
        keepDuplicateKeys(v, out);
        return out;
    }

    private intrinsic(fn: string, arg: unknown, res: Resolution, branches: ReadonlyMap<string, boolean>, depth: number): unknown {
        const sub = (x: unknown): unknown => this.resolve(x, res, branches, depth + 1);
        const unknown = (why: string): string => {
            res.unknowns.add(why);
            return UNKNOWN;
        };
        switch (fn) {
            case "Fn::GetAtt": {
                const parts = Array.isArray(arg) ? arg.map(sub) : typeof arg === "string" ? arg.split(".") : [];
                const [id, attr] = parts;
                if (typeof id === "string" && attr === "Arn") {
                    const arn = this.providerArn(id, res, depth);
                    if (arn !== undefined) return arn;
                }
                return unknown(`Fn::GetAtt ${parts.map(String).join(".")}`);
            }
            case "Fn::Sub": {
                let template: unknown;
                let vars: Rec = {};
                if (typeof arg === "string") template = arg;
                else if (Array.isArray(arg) && typeof arg[0] === "string") {
                    template = arg[0];
                    vars = isRecord(arg[1]) ? arg[1] : {};
                }
                if (typeof template !== "string") return unknown("Fn::Sub with an unexpected argument");
                return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
                    if (name.startsWith("!")) return `\${${name.slice(1)}}`;
                    let value: unknown;
                    if (Object.prototype.hasOwnProperty.call(vars, name)) value = sub(vars[name]);
                    else if (name.includes(".") && !name.startsWith("AWS::")) {
                        const dot = name.indexOf(".");
                        value = this.intrinsic("Fn::GetAtt", [name.slice(0, dot), name.slice(dot + 1)], res, branches, depth + 1);
                    } else value = this.ref(name, res, depth + 1);
                    if (typeof value === "string") return value;
                    if (typeof value === "number" || typeof value === "boolean") return String(value);
                    res.unknowns.add(`Fn::Sub variable ${whole}`);
                    return UNKNOWN;
                });
            }
            case "Fn::Join": {
                if (!Array.isArray(arg) || typeof arg[0] !== "string") return unknown("Fn::Join with an unexpected argument");
                const list = sub(arg[1]);
                if (!Array.isArray(list)) return unknown("Fn::Join of a list that is not known");
                return list.map((e) => (typeof e === "string" || typeof e === "number" ? String(e) : UNKNOWN)).join(arg[0]);
            }
            case "Fn::Select": {
                if (!Array.isArray(arg)) return unknown("Fn::Select with an unexpected argument");
                const index = Number(sub(arg[0]));
                const list = sub(arg[1]);
                if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
                    return unknown("Fn::Select of a list that is not known");
                }
                return list[index];
            }
            case "Fn::Split": {
                if (!Array.isArray(arg) || typeof arg[0] !== "string") return unknown("Fn::Split with an unexpected argument");
                const s = sub(arg[1]);
                if (typeof s !== "string" || s.includes(UNKNOWN)) return unknown("Fn::Split of a string that is not known");
                return s.split(arg[0]);
            }
            case "Fn::FindInMap": {
                if (!Array.isArray(arg) || arg.length < 3) return unknown("Fn::FindInMap with an unexpected argument");
                const [m, k1, k2] = arg.slice(0, 3).map(sub);
                const map = typeof m === "string" ? own(this.mappings, m) : undefined;
                const level = isRecord(map) && typeof k1 === "string" ? own(map, k1) : undefined;
                const value = isRecord(level) && typeof k2 === "string" ? own(level, k2) : undefined;
                if (value === undefined) return unknown("Fn::FindInMap of keys that are not known");
                return value;
            }
            case "Fn::Base64": {
                const s = sub(arg);
                if (typeof s !== "string" || s.includes(UNKNOWN)) return unknown("Fn::Base64 of a string that is not known");
                return Buffer.from(s, "utf8").toString("base64");
            }
            case "Fn::If": {
                if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== "string") {
                    return unknown("Fn::If with an unexpected argument");
                }
                const taken = branches.get(arg[0]);
                if (taken === undefined) {
                    res.conditions.add(arg[0]);
                    return unknown(`Fn::If ${arg[0]}`);
                }
                return sub(taken ? arg[1] : arg[2]);
            }
            default:
                return unknown(fn);
        }
    }
}

/** Names of the conditions the `Fn::If`s inside `v` test. */
function conditionsIn(v: unknown, out: Set<string>, depth = 0): Set<string> {
    if (depth > MAX_DEPTH) return out;
    if (Array.isArray(v)) {
        for (const e of v) conditionsIn(e, out, depth + 1);
    } else if (isRecord(v)) {
        const ifArg = v["Fn::If"];
        if (Array.isArray(ifArg) && typeof ifArg[0] === "string") out.add(ifArg[0]);
        for (const e of Object.values(v)) conditionsIn(e, out, depth + 1);
    }
    return out;
}

function notesOf(res: Resolution): string[] {
    const notes: string[] = [];
    if (res.defaults.size > 0) {
        notes.push(
            `parameter${res.defaults.size > 1 ? "s" : ""} ${[...res.defaults].join(", ")} taken at ${res.defaults.size > 1 ? "their defaults" : "its default"} (a deployment may pass other values)`,
        );
    }
    if (res.account) notes.push(`the provider ARN's account is read as ${PLACEHOLDER_ACCOUNT} (the account does not decide the verdict)`);
    if (res.unknowns.size > 0) {
        notes.push(`decided only at deployment, so unknown here: ${[...res.unknowns].sort().join("; ")}`);
    }
    return notes;
}

/** The transform that `Fn::ForEach` needs. */
const LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions";
/** A nested stack: its resources are in the template its `TemplateURL` names. */
const NESTED_STACK_TYPE = "AWS::CloudFormation::Stack";
/** The resource types whose trust policies are checked (a loop that makes one has an unknown result). */
const ROLE_TYPES: ReadonlySet<string> = new Set(["AWS::IAM::Role"]);

/** True when `v` (a loop's fragment, nested loops included) holds a resource `{Type: <one of types>}`. */
function makesType(v: unknown, types: ReadonlySet<string>, depth = 0): boolean {
    if (depth > MAX_DEPTH) return true; // fails closed: too deep to tell
    if (Array.isArray(v)) return v.some((e) => makesType(e, types, depth + 1));
    if (!isRecord(v)) return false;
    if (typeof v.Type === "string" && types.has(v.Type)) return true;
    return Object.values(v).some((e) => makesType(e, types, depth + 1));
}

/** The file name at the end of a nested stack's `TemplateURL` (no query: a presigned URL carries credentials there). */
function templateFileName(url: string): string | undefined {
    const path = url.replace(/[?#].*$/s, "");
    const name = path.slice(path.lastIndexOf("/") + 1);
    return name.length > 0 && name.length <= 200 ? name : undefined;
}

/** Every combination of true/false for `names`. */
function assignments(names: readonly string[]): Map<string, boolean>[] {
    let out: Map<string, boolean>[] = [new Map<string, boolean>()];
    for (const n of names) {
        out = out.flatMap((m) => [new Map<string, boolean>([...m, [n, true]]), new Map<string, boolean>([...m, [n, false]])]);
    }
    return out;
}

/**
 * Reads the roles and OIDC providers of a template. `lines` maps logical ids to the line they are declared on.
 */
export function fromTemplate(file: string, doc: Rec, lines: ReadonlyMap<string, number>): ExtractedInput {
    const template = new Template(doc);
    const roles: RoleItem[] = [];
    const providers: ProviderItem[] = [];
    const ids = Object.keys(template.resources);
    for (const id of ids) {
        const r = template.resources[id];
        const line = lines.get(id);
        if (isForEachLoop(id, r)) {
            // A loop that makes roles: they are unknown here (never a pass), named by the loop's logical id. The
            // loop's other resources are in the template's note.
            if (makesType(r, ROLE_TYPES)) {
                roles.push({
                    target: { file, resource: { urn: id, type: "Fn::ForEach", name: id }, ...(line !== undefined ? { line } : {}) },
                    trustPolicy: UNKNOWN,
                    property: "",
                    notes: [
                        `${id} makes IAM roles from each item of its collection when the template is processed; Fn::ForEach is not ` +
                            "expanded here, so their trust policies were not checked",
                    ],
                });
            }
            continue;
        }
        if (!isRecord(r)) continue;
        const target: CheckTarget = {
            file,
            resource: { urn: id, type: typeof r.Type === "string" ? r.Type : "", name: id },
            ...(line !== undefined ? { line } : {}),
        };
        const props = isRecord(r.Properties) ? r.Properties : {};
        if (r.Type === "AWS::IAM::Role") {
            const raw = props.AssumeRolePolicyDocument;
            const item: RoleItem = { target, trustPolicy: undefined, property: "AssumeRolePolicyDocument" };
            if (raw !== undefined) {
                const conditions = [...conditionsIn(raw, new Set())].sort();
                const enumerated = conditions.length <= MAX_CONDITIONS ? conditions : [];
                const variants = assignments(enumerated).map((branches) => {
                    const res = newResolution();
                    const trustPolicy = template.resolve(raw, res, branches);
                    const assumption = [...branches].map(([c, b]) => `condition ${c} ${b ? "true" : "false"}`).join(", ");
                    return { assumption, trustPolicy: trustPolicy === NO_VALUE ? undefined : trustPolicy, notes: notesOf(res) };
                });
                if (variants.length === 1) {
                    item.trustPolicy = variants[0]!.trustPolicy;
                    if (variants[0]!.notes.length > 0) item.notes = variants[0]!.notes;
                } else {
                    item.trustPolicy = variants[0]!.trustPolicy;
                    item.variants = variants;
                }
            }
            roles.push(item);
        } else if (typeof r.Type === "string" && PROVIDER_CLIENT_IDS.has(r.Type)) {
            const res = newResolution();
            const branches = new Map<string, boolean>();
            const url = template.resolve(props.Url, res, branches);
            const clientIds = template.resolve(props[PROVIDER_CLIENT_IDS.get(r.Type)!], res, branches);
            const arn = template.providerArn(id, newResolution(), 0);
            providers.push({
                target,
                url: url === NO_VALUE ? undefined : url,
                clientIds: clientIds === NO_VALUE ? undefined : clientIds ?? [],
                arn: arn ?? null,
                ...(notesOf(res).length > 0 ? { notes: notesOf(res) } : {}),
            });
        }
    }
    const notes: string[] = [];
    const transforms = (Array.isArray(doc.Transform) ? doc.Transform : doc.Transform !== undefined ? [doc.Transform] : [])
        .map((t) => (typeof t === "string" ? t : isRecord(t) && typeof t.Name === "string" ? t.Name : "a macro"))
        // AWS::LanguageExtensions makes resources only through Fn::ForEach, which has a note (and results) of its own.
        .filter((t) => t !== LANGUAGE_EXTENSIONS);
    if (transforms.length > 0) {
        notes.push(
            `the template uses Transform ${transforms.join(", ")}: resources the transform generates (such as the roles of ` +
                "AWS::Serverless functions) are not in it and were not checked; check the processed template " +
                "(`aws cloudformation get-template --template-stage Processed`) or the deployed account (`oidc-guard scan aws`)",
        );
    }
    const loops = ids.filter((id) => isForEachLoop(id, template.resources[id]));
    if (loops.length > 0) {
        notes.push(
            `the template uses ${loops.join(", ")} (transform ${LANGUAGE_EXTENSIONS}): the resources ${loops.length > 1 ? "they make" : "it makes"} ` +
                "are not expanded here and were not checked (a loop that makes roles is an unknown result of its own); check the processed template " +
                "(`aws cloudformation get-template --template-stage Processed`) or the deployed account (`oidc-guard scan aws`)",
        );
    }
    const nested = ids.filter((id) => {
        const r = template.resources[id];
        return isRecord(r) && r.Type === NESTED_STACK_TYPE;
    });
    if (nested.length > 0) {
        const named = nested.map((id) => {
            const props = own(template.resources[id] as Rec, "Properties");
            const url = isRecord(props) ? own(props, "TemplateURL") : undefined;
            const fileName = typeof url === "string" ? templateFileName(url) : undefined;
            return fileName !== undefined ? `${id} (${fileName})` : id;
        });
        notes.push(
            `the template creates nested stack${nested.length > 1 ? "s" : ""} ${named.join(", ")} (${NESTED_STACK_TYPE}): ` +
                `the roles and providers of ${nested.length > 1 ? "their templates" : "its template"} were not checked; ` +
                "check each nested template itself (`oidc-guard check <nested template>`)",
        );
    }
    const repeated = duplicateKeysOf(template.resources);
    if (repeated.length > 0) {
        notes.push(
            `Resources repeats a logical id (${repeated.map(describeDuplicateKey).join("; ")}): CloudFormation deploys the last ` +
                "definition, and only that one was checked",
        );
    }
    return {
        kind: "cloudformation",
        roles,
        providers,
        stackScoped: true,
        entries: ids.length,
        ...(notes.length > 0 ? { notes } : {}),
        unknownSource: {
            when: "decided only when the stack is deployed",
            remediation:
                (loops.length > 0
                    ? "For roles made by Fn::ForEach, check the processed template (`aws cloudformation get-template --template-stage Processed`). "
                    : "") +
                "Give the parameter a Default or reference the provider from the same template; or check the deployed role: " +
                "`oidc-guard scan aws`, or `aws iam get-role --role-name <name> | oidc-guard check -`.",
        },
    };
}
