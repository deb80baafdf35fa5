/**
 * `pulumi-resource-aws` stand-in: a resource provider plugin that plays AWS (IAM only) for the end-to-end tests
 * under the real Pulumi CLI, on @grpc/grpc-js with the stubs shipped in @pulumi/pulumi/proto.
 *
 * It answers GetPluginInfo (the version @pulumi/aws asks for), Configure (supportsPreview), Check (echoes the
 * inputs, auto-names IAM roles, renders policy documents given as objects to JSON strings as the real provider
 * does), Diff, Create (an id and an AWS-shaped `arn`; unknowns during preview), Update, Delete, Read, Invoke for
 * the few data sources the fixture programs call, and GetSchema (a minimal schema for Pulumi YAML). Every other
 * method answers UNIMPLEMENTED. It keeps no state of its own: the stack's state is the engine's. What it does not
 * imitate is listed in docs/real-cli.md.
 */
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";

/** The engine's marker for a value not known until the resource exists. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";
/** Plugin version reported; the engine accepts any version >= the one the program requested. */
const VERSION = process.env["OIDC_GUARD_AWS_STANDIN_VERSION"] ?? "7.48.0";

type Props = Record<string, JavaScriptValue>;

const ROLE = "aws:iam/role:Role";
const OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

/** Inputs whose change replaces the resource rather than updating it (as in the real provider's schema). */
const REPLACE_ON_CHANGE: Record<string, string[]> = {
    [ROLE]: ["name", "namePrefix"],
    [OIDC_PROVIDER]: ["url"],
    [ATTACHMENT]: ["role", "policyArn"],
    [ROLE_POLICY]: ["role", "name", "namePrefix"],
};
/** Inputs holding IAM policy documents: the real provider stores them as JSON strings. */
const POLICY_INPUTS: Record<string, string[]> = { [ROLE]: ["assumeRolePolicy"], [ROLE_POLICY]: ["policy"] };

function toProps(s: Struct | undefined): Props {
    return s?.toJavaScript() ?? {};
}

function typeOfUrn(urn: string): string {
    return urn.split("::")[2]?.split("$").pop() ?? "";
}

function nameOfUrn(urn: string): string {
    return urn.split("::")[3] ?? "resource";
}

function hex(n: number): string {
    return randomBytes(n).toString("hex").slice(0, n);
}

function containsUnknown(v: JavaScriptValue): boolean {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(containsUnknown);
    if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
    return false;
}

/** The engine's wrapper of a secret value inside a Struct (the provider accepts secrets). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isRecord(v: JavaScriptValue | undefined): v is Props {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A policy document given as an object becomes its JSON text (inside a secret, the secret is kept). */
function policyText(v: JavaScriptValue): JavaScriptValue {
    if (isRecord(v) && v[SECRET_SIG] === SECRET_VALUE_SIG) return { ...v, value: policyText(v["value"] ?? null) };
    return isRecord(v) && !containsUnknown(v) ? JSON.stringify(v) : v;
}

/** Check: echo the inputs; name a role as the real provider's autonaming does; policy objects become JSON text. */
export function check(type: string, urn: string, news: Props, olds: Props): Props {
    const out: Props = { ...news };
    if ((type === ROLE || type === ROLE_POLICY) && out["name"] === undefined && out["namePrefix"] === undefined) {
        const previous = olds["name"];
        out["name"] = typeof previous === "string" ? previous : `${nameOfUrn(urn)}-${hex(7)}`;
    }
    for (const key of POLICY_INPUTS[type] ?? []) {
        const v = out[key];
        if (v !== undefined) out[key] = policyText(v);
    }
    return out;
}

export function diff(type: string, olds: Props, news: Props): { diffs: string[]; replaces: string[] } {
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    const diffs = [...keys].filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])).sort();
    const replaces = diffs.filter((k) => (REPLACE_ON_CHANGE[type] ?? []).includes(k));
    return { diffs, replaces };
}

/** The id and outputs AWS would return for a new resource; computed outputs are unknown during preview. */
export function create(type: string, urn: string, inputs: Props, preview: boolean): { id: string; outputs: Props } {
    const name = typeof inputs["name"] === "string" ? inputs["name"] : `${nameOfUrn(urn)}-${hex(7)}`;
    const computed = (v: JavaScriptValue): JavaScriptValue => (preview ? UNKNOWN : v);
    switch (type) {
        case ROLE: {
            const arn = `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
            return {
                id: name,
                outputs: {
                    ...inputs,
                    name,
                    arn: computed(arn),
                    uniqueId: computed(`AROA${hex(17).toUpperCase()}`),
                    createDate: computed(new Date().toISOString()),
                    maxSessionDuration: inputs["maxSessionDuration"] ?? 3600,
                    path: inputs["path"] ?? "/",
                },
            };
        }
        case OIDC_PROVIDER: {
            const url = typeof inputs["url"] === "string" ? inputs["url"].replace(/^https:\/\//, "") : name;
            const arn = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${url}`;
            // IAM returns the URL without its scheme, and the provider stores it so.
            return { id: arn, outputs: { ...inputs, url, arn: computed(arn), thumbprintLists: inputs["thumbprintLists"] ?? [] } };
        }
        case ATTACHMENT: {
            const role = typeof inputs["role"] === "string" ? inputs["role"] : name;
            return { id: `${role}-${hex(20)}`, outputs: { ...inputs } };
        }
        case ROLE_POLICY: {
            const role = typeof inputs["role"] === "string" ? inputs["role"] : "role";
            return { id: `${role}:${name}`, outputs: { ...inputs, name } };
        }
        default:
            return {
                id: hex(16),
                outputs: { ...inputs, arn: computed(`arn:aws:${type.split(":")[1] ?? "aws"}::${ACCOUNT_ID}:${name}`) },
            };
    }
}

function single(values: JavaScriptValue): JavaScriptValue {
    if (!Array.isArray(values)) return values;
    const list = values as JavaScriptValue[];
    return list.length === 1 ? (list[0] ?? null) : list;
}

function asList(v: JavaScriptValue | undefined): Props[] {
    return Array.isArray(v) ? v.filter((x): x is Props => x !== null && typeof x === "object" && !Array.isArray(x)) : [];
}

/** aws.iam.getPolicyDocument: renders the statements as the real data source does (single values unwrapped). */
export function renderPolicyDocument(args: Props): string {
    const statements = asList(args["statements"]).map((s) => {
        const out: Props = {};
        if (typeof s["sid"] === "string") out["Sid"] = s["sid"];
        out["Effect"] = typeof s["effect"] === "string" ? s["effect"] : "Allow";
        if (s["actions"] !== undefined) out["Action"] = single(s["actions"]);
        if (s["notActions"] !== undefined) out["NotAction"] = single(s["notActions"]);
        if (s["resources"] !== undefined) out["Resource"] = single(s["resources"]);
        const principals: Props = {};
        for (const p of asList(s["principals"])) {
            if (typeof p["type"] === "string") principals[p["type"]] = single(p["identifiers"] ?? []);
        }
        if (Object.keys(principals).length > 0) out["Principal"] = principals;
        const conditions: Record<string, Props> = {};
        for (const c of asList(s["conditions"])) {
            if (typeof c["test"] !== "string" || typeof c["variable"] !== "string") continue;
            (conditions[c["test"]] ??= {})[c["variable"]] = single(c["values"] ?? []);
        }
        if (Object.keys(conditions).length > 0) out["Condition"] = conditions;
        return out;
    });
    const version = typeof args["version"] === "string" ? args["version"] : "2012-10-17";
    return JSON.stringify({ Version: version, Statement: statements }, null, 2);
}

export function invoke(token: string, args: Props): Props {
    switch (token) {
        case "aws:iam/getPolicyDocument:getPolicyDocument": {
            const json = renderPolicyDocument(args);
            return { ...args, id: String(json.length), json, minifiedJson: JSON.stringify(JSON.parse(json)) };
        }
        case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                id: ACCOUNT_ID,
                accountId: ACCOUNT_ID,
                arn: `arn:aws:iam::${ACCOUNT_ID}:user/oidc-guard-e2e`,
                userId: "AIDAOIDCGUARDE2E",
            };
        case "aws:index/getRegion:getRegion":
            return { id: REGION, name: REGION, region: REGION, endpoint: `ec2.${REGION}.amazonaws.com` };
        case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {
            const arn = typeof args["arn"] === "string" ? args["arn"] : "";
            const url = arn.split(":oidc-provider/")[1] ?? "";
            // The account's existing provider, as the fixtures describe it: issuer api.pulumi.com/oidc.
            const org = process.env["OIDC_GUARD_AWS_STANDIN_ORG"] ?? "organization";
            return { arn, id: arn, url, clientIdLists: [org, `aws:${org}`], thumbprintLists: [], tags: {} };
        }
        default:
            throw Object.assign(new Error(`the oidc-guard AWS stand-in does not implement ${token}`), {
                code: grpc.status.UNIMPLEMENTED,
            });
    }
}

/** A minimal package schema (the resources and data sources above) for Pulumi YAML's type checker. */
export function schema(): string {
    const str = { type: "string" };
    const strList = { type: "array", items: str };
    const strMap = { type: "object", additionalProperties: str };
    const resource = (description: string, inputs: Record<string, object>, outputs: Record<string, object>, required: string[] = []) => ({
        description,
        inputProperties: inputs,
        requiredInputs: required,
        properties: { ...inputs, ...outputs },
        required: Object.keys(outputs),
    });
    return JSON.stringify({
        name: "aws",
        version: VERSION,
        meta: { moduleFormat: "(.*)(?:/[^/]*)" },
        resources: {
            [ROLE]: resource(
                "IAM role (oidc-guard stand-in)",
                {
                    name: str, namePrefix: str, description: str, assumeRolePolicy: str,
                    maxSessionDuration: { type: "integer" }, path: str, tags: strMap,
                },
                { arn: str, uniqueId: str, createDate: str },
                ["assumeRolePolicy"],
            ),
            [OIDC_PROVIDER]: resource(
                "IAM OIDC provider (oidc-guard stand-in)",
                { url: str, clientIdLists: strList, thumbprintLists: strList, tags: strMap },
                { arn: str },
                ["url", "clientIdLists"],
            ),
            [ATTACHMENT]: resource("Managed policy attachment (oidc-guard stand-in)", { role: str, policyArn: str }, {}, ["role", "policyArn"]),
            [ROLE_POLICY]: resource("Inline role policy (oidc-guard stand-in)", { role: str, name: str, policy: str }, {}, ["role", "policy"]),
        },
    });
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

function unary<Req, Res>(f: (req: Req) => Res): Unary<Req, Res> {
    return (call, callback) => {
        try {
            callback(null, f(call.request));
        } catch (e) {
            const err = e instanceof Error ? e : new Error(String(e));
            const code = (err as Error & { code?: number }).code ?? grpc.status.INTERNAL;
            callback({ code, details: err.message, name: err.name, message: err.message, metadata: new grpc.Metadata() });
        }
    };
}

const struct = (p: Props): Struct => Struct.fromJavaScript(p);

const implementation: Partial<providerRpc.IResourceProviderServer> = {
    getPluginInfo: unary<Empty, pluginPb.PluginInfo>(() => new pluginPb.PluginInfo().setVersion(VERSION)),
    getSchema: unary<providerPb.GetSchemaRequest, providerPb.GetSchemaResponse>(() =>
        new providerPb.GetSchemaResponse().setSchema(schema()),
    ),
    configure: unary<providerPb.ConfigureRequest, providerPb.ConfigureResponse>(() =>
        new providerPb.ConfigureResponse().setSupportspreview(true).setAcceptsecrets(true).setAcceptresources(true),
    ),
    check: unary<providerPb.CheckRequest, providerPb.CheckResponse>((req) =>
        new providerPb.CheckResponse().setInputs(
            struct(check(typeOfUrn(req.getUrn()), req.getUrn(), toProps(req.getNews()), toProps(req.getOlds()))),
        ),
    ),
    diff: unary<providerPb.DiffRequest, providerPb.DiffResponse>((req) => {
        const olds = req.getOldInputs() ?? req.getOlds();
        const { diffs, replaces } = diff(typeOfUrn(req.getUrn()), toProps(olds), toProps(req.getNews()));
        return new providerPb.DiffResponse()
            .setChanges(diffs.length > 0 ? providerPb.DiffResponse.DiffChanges.DIFF_SOME : providerPb.DiffResponse.DiffChanges.DIFF_NONE)
            .setDiffsList(diffs)
            .setReplacesList(replaces);
    }),
    create: unary<providerPb.CreateRequest, providerPb.CreateResponse>((req) => {
        const { id, outputs } = create(typeOfUrn(req.getUrn()), req.getUrn(), toProps(req.getProperties()), req.getPreview());
        return new providerPb.CreateResponse().setId(req.getPreview() ? "" : id).setProperties(struct(outputs));
    }),
    read: unary<providerPb.ReadRequest, providerPb.ReadResponse>((req) =>
        new providerPb.ReadResponse()
            .setId(req.getId())
            .setProperties(struct(toProps(req.getProperties())))
            .setInputs(struct(toProps(req.getInputs()))),
    ),
    update: unary<providerPb.UpdateRequest, providerPb.UpdateResponse>((req) =>
        new providerPb.UpdateResponse().setProperties(struct({ ...toProps(req.getOlds()), ...toProps(req.getNews()) })),
    ),
    delete: unary<providerPb.DeleteRequest, Empty>(() => new Empty()),
    invoke: unary<providerPb.InvokeRequest, providerPb.InvokeResponse>((req) =>
        new providerPb.InvokeResponse().setReturn(struct(invoke(req.getTok(), toProps(req.getArgs())))),
    ),
    cancel: unary<Empty, Empty>(() => new Empty()),
};

function main(): void {
    const server = new grpc.Server();
    server.addService(providerRpc.ResourceProviderService, implementation as grpc.UntypedServiceImplementation);
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`pulumi-resource-aws (oidc-guard stand-in): ${err.message}\n`);
            process.exit(1);
        }
        // The engine reads the port from the first line of stdout.
        process.stdout.write(`${port}\n`);
    });
    const stop = () => server.tryShutdown(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
}

if (require.main === module) main();
