/**
 * An engine-protocol driver for the COMPILED policy pack: starts it exactly as the Pulumi CLI's
 * `pulumi-analyzer-policy` shim does (`node <@pulumi/pulumi/cmd/run-policy-pack> <engine-address> .` in the pack
 * folder, with the engine's environment), reads the port from the first stdout line, and speaks
 * `pulumirpc.Analyzer` over gRPC with the stubs shipped in @pulumi/pulumi, doing the engine's side of the
 * protocol: Handshake, ConfigureStack, GetAnalyzerInfo, Configure (config reconciled and validated first),
 * Analyze, AnalyzeStack, and the engine's shutdown (close channel, SIGINT, SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import {
    ENFORCEMENT_LEVELS,
    reconcilePolicyConfig,
    type EnforcementLevel,
    type PolicyConfigEntryInput,
    type PolicyConfigInfo,
} from "./policy-config.js";

export interface AnalyzerResource {
    type: string;
    name: string;
    urn?: string;
    /**
     * Plain JSON. The string "04da6b54-80e4-46f7-96ec-b56ff0331ba9" (UNKNOWN_SENTINELS[0]) marks an unknown; a secret
     * is {"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","value":...}. Both go into the Struct
     * as they are, which is how the engine marshals them (KeepUnknowns, KeepSecrets).
     */
    properties: Record<string, unknown>;
}

export interface AnalyzerDiagnostic {
    policyName: string;
    policyPackName: string;
    message: string;
    enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
    urn: string;
    severity?: string;
}

export interface AnalyzerClient {
    readonly port: number;
    getAnalyzerInfo(): Promise<analyzerPb.AnalyzerInfo.AsObject>;
    getPluginInfo(): Promise<{ version: string }>;
    /**
     * Engine-style: merges schema defaults, the pack's initial config, `all`, per-policy settings; validates with the
     * configSchema (ajv here, gojsonschema in the engine); rejects (throws) with the schema error like the engine
     * would, without calling Configure.
     */
    configure(config: Record<string, unknown>): Promise<void>;
    analyze(resource: AnalyzerResource): Promise<AnalyzerDiagnostic[]>;
    /**
     * The same Analyze call, answered with the response's protobuf bytes undecoded: the round trip as the engine
     * (Go) sees it, without this client's JavaScript decoding of the diagnostics. For benchmarks; `decodeAnalyzeResponse`
     * reads the bytes when a caller needs them.
     */
    analyzeBytes(resource: AnalyzerResource): Promise<Uint8Array>;
    analyzeStack(resources: AnalyzerResource[]): Promise<AnalyzerDiagnostic[]>;
    /** Close channel, SIGINT, SIGKILL after 5 s; resolves when the process exited. */
    close(): Promise<void>;
}

/** The policy pack folder of this repository (holds package.json, PulumiPolicy.yaml, bin/). */
export const DEFAULT_PACK_DIR = join(__dirname, "..", "..");

const STARTUP_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;
const KILL_AFTER_MS = 5_000;
const STDERR_LIMIT = 64 * 1024;
/** The engine passes its own address; the runner drops it, so any placeholder works. */
const ENGINE_ADDRESS_PLACEHOLDER = "127.0.0.1:1";

const LEVEL_NAMES: Record<number, EnforcementLevel> = {
    [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
    [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_VALUES: Record<EnforcementLevel, analyzerPb.EnforcementLevel> = {
    advisory: analyzerPb.EnforcementLevel.ADVISORY,
    mandatory: analyzerPb.EnforcementLevel.MANDATORY,
    disabled: analyzerPb.EnforcementLevel.DISABLED,
    remediate: analyzerPb.EnforcementLevel.REMEDIATE,
};
const SEVERITY_NAMES: Record<number, string | undefined> = {
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_UNSPECIFIED]: undefined,
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_LOW]: "low",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_MEDIUM]: "medium",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_HIGH]: "high",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_CRITICAL]: "critical",
};

function levelName(level: analyzerPb.EnforcementLevel): EnforcementLevel {
    const name = LEVEL_NAMES[level];
    if (!name) throw new Error(`analyzer returned unknown enforcement level ${level}`);
    return name;
}

/** The process environment of the pack, as the engine builds it (constructEnv in analyzer_plugin.go). */
function packEnv(env: Record<string, string>, dryRun: boolean | undefined): NodeJS.ProcessEnv {
    const out: NodeJS.ProcessEnv = {};
    // Inherit the basics but no PULUMI_* variable of the caller's shell: no credentials, no stray config.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PULUMI_")) out[k] = v;
    const settings: Record<string, string> = {
        ORGANIZATION: "acme",
        PROJECT: "oidc-guard-test",
        STACK: "dev",
        DRY_RUN: "false",
    };
    for (const key of Object.keys(settings)) {
        const given = env[`PULUMI_${key}`] ?? env[`PULUMI_NODEJS_${key}`];
        if (given !== undefined) settings[key] = given;
    }
    if (dryRun !== undefined) settings["DRY_RUN"] = String(dryRun);
    for (const [k, v] of Object.entries(env)) out[k] = v;
    for (const [key, value] of Object.entries(settings)) {
        out[`PULUMI_${key}`] = value;
        out[`PULUMI_NODEJS_${key}`] = value;
    }
    // The engine sets a variable only when its value is non-empty.
    for (const [k, v] of Object.entries(out)) if (v === "") delete out[k];
    return out;
}

/** Resolves with the port once the pack printed it; rejects with the pack's stderr when it dies or stalls first. */
function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        let settled = false;
        const finish = (err: Error | null, port?: number): void => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            lines.close();
            if (err) reject(err);
            else resolve(port!);
        };
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            finish(new Error(`policy pack did not print its port within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${stderr()}`));
        }, STARTUP_TIMEOUT_MS);
        lines.once("line", (line) => {
            // The engine reads the first stdout line as the port: anything printed before it breaks the engine.
            if (!/^\d+$/.test(line.trim())) {
                child.kill("SIGKILL");
                finish(new Error(`policy pack printed ${JSON.stringify(line)} before its port; stderr:\n${stderr()}`));
                return;
            }
            finish(null, Number(line.trim()));
        });
        child.once("exit", (code, signal) =>
            finish(new Error(`policy pack exited (code ${code}, signal ${signal}) before printing its port; stderr:\n${stderr()}`)),
        );
        child.once("error", (e) => finish(new Error(`could not start the policy pack: ${e.message}`)));
    });
}

/** The resource fields an AnalyzeRequest and an AnalyzerResource share. */
interface ResourceMessage {
    setType(value: string): unknown;
    setName(value: string): unknown;
    setUrn(value: string): unknown;
    setProperties(value?: Struct): unknown;
    setOptions(value?: analyzerPb.AnalyzerResourceOptions): unknown;
}

type Invoke<Res> = (
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** One unary call with a deadline; a gRPC error becomes `<Method>: <details>` carrying the status code. */
function call<Res>(name: string, invoke: Invoke<Res>): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
        invoke(new grpc.Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
            if (err) reject(Object.assign(new Error(`${name}: ${err.details || err.message}`), { code: err.code }));
            else resolve(res);
        });
    });
}

function resourceOptions(): analyzerPb.AnalyzerResourceOptions {
    // The engine always sends options (the SDK throws without them) with custom timeouts set.
    const opts = new analyzerPb.AnalyzerResourceOptions();
    opts.setProtect(false);
    opts.setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts());
    return opts;
}

function toStruct(properties: Record<string, unknown>): Struct {
    return Struct.fromJavaScript(properties as Record<string, JavaScriptValue>);
}

/** The diagnostics of Analyze response bytes (from `analyzeBytes`); `urn` stands in where a diagnostic names none. */
export function decodeAnalyzeResponse(bytes: Uint8Array, urn: string): AnalyzerDiagnostic[] {
    return diagnostics(analyzerPb.AnalyzeResponse.deserializeBinary(bytes), urn);
}

function diagnostics(resp: analyzerPb.AnalyzeResponse, defaultUrn: string): AnalyzerDiagnostic[] {
    return resp.getDiagnosticsList().map((d) => {
        const out: AnalyzerDiagnostic = {
            policyName: d.getPolicyname(),
            policyPackName: d.getPolicypackname(),
            message: d.getMessage(),
            enforcementLevel: levelName(d.getEnforcementlevel()),
            urn: d.getUrn() || defaultUrn,
        };
        const severity = SEVERITY_NAMES[d.getSeverity()];
        if (severity) out.severity = severity;
        return out;
    });
}

/**
 * Starts the compiled pack in `packDir` (default: this repository's policypack/) and connects to it. `env` adds to
 * or overrides the engine's variables (PULUMI_ORGANIZATION default `acme`, PULUMI_PROJECT `oidc-guard-test`,
 * PULUMI_STACK `dev`; each also set as its PULUMI_NODEJS_ twin; an empty value removes it); `dryRun` sets
 * PULUMI_DRY_RUN (default false). Performs the engine's opening calls, including Configure with the defaults.
 */
export async function startAnalyzer(
    opts: { packDir?: string; env?: Record<string, string>; dryRun?: boolean } = {},
): Promise<AnalyzerClient> {
    const packDir = opts.packDir ?? DEFAULT_PACK_DIR;
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    const env = packEnv(opts.env ?? {}, opts.dryRun);
    const child = spawn(process.execPath, [runner, ENGINE_ADDRESS_PLACEHOLDER, "."], {
        cwd: packDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderrText = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
        stderrText = (stderrText + chunk).slice(-STDERR_LIMIT);
    });
    const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once("exit", () => resolve());
    });

    const port = await readPort(child, () => stderrText);
    // Keep draining stdout so a chatty pack never blocks on a full pipe.
    child.stdout.resume();
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + STARTUP_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())),
    );

    const stack = env["PULUMI_STACK"] ?? "dev";
    const project = env["PULUMI_PROJECT"] ?? "oidc-guard-test";
    const urnOf = (r: AnalyzerResource): string => r.urn ?? `urn:pulumi:${stack}::${project}::${r.type}::${r.name}`;
    /** An AnalyzeRequest, or AnalyzeStack's AnalyzerResource: the same fields, as the engine fills them. */
    const fillResource = <M extends ResourceMessage>(msg: M, resource: AnalyzerResource): M => {
        msg.setType(resource.type);
        msg.setName(resource.name);
        msg.setUrn(urnOf(resource));
        msg.setProperties(toStruct(resource.properties));
        msg.setOptions(resourceOptions());
        return msg;
    };
    const analyzeRequest = (resource: AnalyzerResource): analyzerPb.AnalyzeRequest => fillResource(new analyzerPb.AnalyzeRequest(), resource);
    let info: analyzerPb.AnalyzerInfo | undefined;
    const analyzerInfo = async (): Promise<analyzerPb.AnalyzerInfo> =>
        (info ??= await call<analyzerPb.AnalyzerInfo>("GetAnalyzerInfo", (m, o, cb) => client.getAnalyzerInfo(new Empty(), m, o, cb)));

    const self: AnalyzerClient = {
        port,
        async getAnalyzerInfo() {
            return (await analyzerInfo()).toObject();
        },
        async getPluginInfo() {
            const res: pluginPb.PluginInfo = await call<pluginPb.PluginInfo>("GetPluginInfo", (m, o, cb) =>
                client.getPluginInfo(new Empty(), m, o, cb),
            );
            return { version: res.getVersion() };
        },
        async configure(config) {
            const ai = await analyzerInfo();
            const policies: PolicyConfigInfo[] = ai.getPoliciesList().map((p) => {
                const schema = p.getConfigschema();
                return {
                    name: p.getName(),
                    enforcementLevel: levelName(p.getEnforcementlevel()),
                    configSchema: schema
                        ? {
                              properties: schema.getProperties()?.toJavaScript() ?? {},
                              required: schema.getRequiredList(),
                          }
                        : undefined,
                };
            });
            const initial = new Map<string, PolicyConfigEntryInput>();
            ai.getInitialconfigMap().forEach((v, k) => {
                initial.set(k, {
                    enforcementLevel: levelName(v.getEnforcementlevel()),
                    properties: v.getProperties()?.toJavaScript(),
                });
            });
            const reconciled = reconcilePolicyConfig({ name: ai.getName(), version: ai.getVersion() }, policies, initial, config);
            const req = new analyzerPb.ConfigureAnalyzerRequest();
            const map = req.getPolicyconfigMap();
            for (const [name, entry] of reconciled) {
                if (!ENFORCEMENT_LEVELS.includes(entry.enforcementLevel)) {
                    throw new Error(`invalid enforcement level "${entry.enforcementLevel}"`);
                }
                const pc = new analyzerPb.PolicyConfig();
                pc.setEnforcementlevel(LEVEL_VALUES[entry.enforcementLevel]);
                // The engine always sends a Struct (empty when there are no properties); the SDK reads it unguarded.
                pc.setProperties(toStruct(entry.properties ?? {}));
                map.set(name, pc);
            }
            await call<Empty>("Configure", (m, o, cb) => client.configure(req, m, o, cb));
        },
        async analyze(resource) {
            const req = analyzeRequest(resource);
            return diagnostics(await call<analyzerPb.AnalyzeResponse>("Analyze", (m, o, cb) => client.analyze(req, m, o, cb)), req.getUrn());
        },
        async analyzeBytes(resource) {
            const req = analyzeRequest(resource);
            const bytes = await call<Uint8Array | undefined>("Analyze", (m, o, cb) =>
                client.makeUnaryRequest<analyzerPb.AnalyzeRequest, Uint8Array>(
                    "/pulumirpc.Analyzer/Analyze",
                    (r) => Buffer.from(r.serializeBinary()),
                    (b) => b,
                    req,
                    m,
                    o,
                    cb,
                ),
            );
            return bytes ?? new Uint8Array(0);
        },
        async analyzeStack(resources) {
            const req = new analyzerPb.AnalyzeStackRequest();
            req.setResourcesList(resources.map((r) => fillResource(new analyzerPb.AnalyzerResource(), r)));
            return diagnostics(await call<analyzerPb.AnalyzeResponse>("AnalyzeStack", (m, o, cb) => client.analyzeStack(req, m, o, cb)), "");
        },
        async close() {
            client.close();
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGINT");
                const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
                await exited;
                clearTimeout(timer);
            }
            await exited;
        },
    };

    try {
        // The engine's opening sequence: Handshake (UNIMPLEMENTED is fine), ConfigureStack, GetAnalyzerInfo,
        // GetPluginInfo, then Configure with the reconciled configuration.
        const hs = new analyzerPb.AnalyzerHandshakeRequest();
        hs.setEngineAddress(ENGINE_ADDRESS_PLACEHOLDER);
        hs.setRootDirectory(packDir);
        hs.setProgramDirectory(packDir);
        await call<analyzerPb.AnalyzerHandshakeResponse>("Handshake", (m, o, cb) => client.handshake(hs, m, o, cb)).catch((e: Error & { code?: number }) => {
            if (e.code !== grpc.status.UNIMPLEMENTED) throw e;
        });
        const cs = new analyzerPb.AnalyzerStackConfigureRequest();
        cs.setStack(stack);
        cs.setProject(project);
        cs.setOrganization(env["PULUMI_ORGANIZATION"] ?? "");
        cs.setDryRun(env["PULUMI_DRY_RUN"] === "true");
        await call<analyzerPb.AnalyzerStackConfigureResponse>("ConfigureStack", (m, o, cb) => client.configureStack(cs, m, o, cb));
        await self.getAnalyzerInfo();
        await self.getPluginInfo();
        await self.configure({});
    } catch (e) {
        await self.close();
        throw e;
    }
    return self;
}
