/**
 * Runs a policy in-process the way @pulumi/policy 1.21's server does, without a gRPC round trip: properties go
 * through a protobuf Struct and the SDK's own deserializer (secrets unwrapped, unknown sentinels kept) and are
 * wrapped in the SDK's `unknownCheckingProxy`; configuration is reconciled and validated as the engine does;
 * `notApplicable` throws; an `UnknownValueError` becomes the SDK's advisory "can't run policy" text.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { isUnknownValueError, unknownCheckingProxy } from "../policies/support/sdk.js";
import { reconcilePolicyConfig, type EnforcementLevel } from "./policy-config.js";

const sdkRequire = createRequire(require.resolve("@pulumi/policy"));
/** The SDK's deserializer (exported at runtime, hidden from its .d.ts). */
const { deserializeProperties } = sdkRequire("./deserialize") as {
    deserializeProperties: (props: Struct, proxySecrets: boolean) => Record<string, unknown>;
};

export const PACK_NAME = "pulumi-oidc-guard";
export const PACK_VERSION = (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string })
    .version;

/** The engine's unknown (preview) string and secret envelope, for writing test inputs. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export function secret(value: unknown): Record<string, unknown> {
    return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

/** Thrown by `args.notApplicable` (the SDK's own NotApplicableError class is not exported). */
export class NotApplicableError extends Error {
    constructor(readonly reason: string | undefined) {
        super(reason ?? "Policy does not apply");
        this.name = "NotApplicableError";
    }
}

export interface Violation {
    message: string;
    urn?: string;
    /** The level the SDK reports it at: the configured one, else the policy's, else the pack's (advisory). */
    enforcementLevel: EnforcementLevel;
}

export interface PolicyRun {
    violations: Violation[];
    /** The reason given to `args.notApplicable`, when the policy called it. */
    notApplicable: string | null;
    /** When the policy threw UnknownValueError: the advisory diagnostic text the SDK would show. */
    previewDiagnostic: string | null;
}

interface CommonInput {
    /** `--policy-pack-config` style: `{ "all": ..., "<policy>": { enforcementLevel, ...properties } }`. */
    config?: Record<string, unknown>;
    stackTags?: Record<string, string>;
    /** Environment the pack process would have (PULUMI_ORGANIZATION, ...), set for the duration of the call. */
    env?: Record<string, string | undefined>;
}

export interface ResourceInput extends CommonInput {
    type: string;
    /** Plain JSON as the engine sends it; UNKNOWN marks an unknown, `secret(v)` a secret. */
    props: Record<string, unknown>;
    urn?: string;
    name?: string;
}

export interface StackResourceInput {
    type: string;
    props: Record<string, unknown>;
    urn?: string;
    name?: string;
}

export interface StackInput extends CommonInput {
    resources: StackResourceInput[];
}

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:dev::oidc-guard-test::${type}::${name}`;
}

/** Engine-style: the properties cross a protobuf Struct and the SDK's deserializer, then get the SDK's proxy. */
function engineProps(props: Record<string, unknown>): Record<string, unknown> {
    return unknownCheckingProxy(deserializeProperties(Struct.fromJavaScript(props as Record<string, JavaScriptValue>), false));
}

/** The SDK's `isTypeOf`: by the class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
    if (typeof cls.__pulumiType === "string") return cls.__pulumiType === type;
    return typeof cls.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function configFor(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    config: Record<string, unknown> | undefined,
): { properties: Record<string, unknown>; level: EnforcementLevel } {
    const reconciled = reconcilePolicyConfig(
        { name: PACK_NAME, version: PACK_VERSION },
        [{ name: policy.name, enforcementLevel: policy.enforcementLevel ?? "advisory", configSchema: policy.configSchema }],
        new Map(),
        config ?? {},
    );
    const entry = reconciled.get(policy.name);
    const level = entry?.enforcementLevel ?? "advisory";
    return { properties: entry?.properties ?? {}, level: level === "remediate" ? "mandatory" : level };
}

async function withEnv<T>(env: Record<string, string | undefined> | undefined, fn: () => Promise<T>): Promise<T> {
    if (!env) return fn();
    const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    try {
        return await fn();
    } finally {
        for (const [k, v] of saved) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}

async function run(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    level: EnforcementLevel,
    body: (report: (message: string, urn?: string) => void) => Promise<void>,
): Promise<PolicyRun> {
    const result: PolicyRun = { violations: [], notApplicable: null, previewDiagnostic: null };
    const report = (message: string, urn?: string): void => {
        result.violations.push(urn === undefined ? { message, enforcementLevel: level } : { message, urn, enforcementLevel: level });
    };
    try {
        await body(report);
    } catch (e) {
        if (isUnknownValueError(e)) {
            result.previewDiagnostic = `can't run policy '${policy.name}' from policy pack '${PACK_NAME}@v${PACK_VERSION}' during preview: ${e.message}`;
        } else if (e instanceof NotApplicableError) {
            result.notApplicable = e.reason ?? "";
        } else {
            throw e;
        }
    }
    return result;
}

/** Runs a resource policy's validations on one resource, as the SDK's Analyze does. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, input: ResourceInput): Promise<PolicyRun> {
    const { properties, level } = configFor(policy, input.config);
    const name = input.name ?? "res";
    const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
    return withEnv(input.env, () =>
        run(policy, level, async (report) => {
            for (const validation of validations) {
                const props = engineProps(input.props);
                const args: ResourceValidationArgs = {
                    type: input.type,
                    props,
                    urn: input.urn ?? urnOf(input.type, name),
                    name,
                    opts: OPTIONS,
                    stackTags: new Map(Object.entries(input.stackTags ?? {})),
                    isType: (cls) => isTypeOf(input.type, cls),
                    asType: ((cls: unknown) => (isTypeOf(input.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
                    getConfig: <T extends object>() => ({ ...properties }) as T,
                    notApplicable: (reason?: string): never => {
                        throw new NotApplicableError(reason);
                    },
                };
                await Promise.resolve(validation(args, report));
            }
        }),
    );
}

/** Runs a stack policy over the given resources (their outputs), as the SDK's AnalyzeStack does. */
export async function runStackPolicy(policy: StackValidationPolicy, input: StackInput): Promise<PolicyRun> {
    const { properties, level } = configFor(policy, input.config);
    return withEnv(input.env, () =>
        run(policy, level, async (report) => {
            const resources: PolicyResource[] = input.resources.map((r, i) => {
                const name = r.name ?? `res${i}`;
                const props = engineProps(r.props);
                return {
                    type: r.type,
                    props,
                    urn: r.urn ?? urnOf(r.type, name),
                    name,
                    opts: OPTIONS,
                    dependencies: [],
                    propertyDependencies: {},
                    isType: (cls) => isTypeOf(r.type, cls),
                    asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
                };
            });
            const args: StackValidationArgs = {
                resources,
                stackTags: new Map(Object.entries(input.stackTags ?? {})),
                getConfig: <T extends object>() => ({ ...properties }) as T,
                notApplicable: (reason?: string): never => {
                    throw new NotApplicableError(reason);
                },
            };
            await Promise.resolve(policy.validateStack(args, report));
        }),
    );
}
