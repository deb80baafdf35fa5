/**
 * Policy pack configuration as the Pulumi engine handles it before the pack sees it (pulumi/pulumi
 * `pkg/resource/analyzer/config.go`): schema defaults, then the pack's initial config, then the given config
 * (`all` sets every policy's enforcement level, then per-policy settings), then validation of every policy's
 * properties against its `configSchema` (gojsonschema in the engine, ajv here, with gojsonschema-style messages).
 */
import Ajv, { type ErrorObject } from "ajv";

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";
export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** What the engine knows of a policy from GetAnalyzerInfo. */
export interface PolicyConfigInfo {
    name: string;
    enforcementLevel: EnforcementLevel;
    configSchema?: { properties: Record<string, unknown>; required?: string[] } | undefined;
}

/** One policy's reconciled configuration, as sent with Configure. */
export interface PolicyConfigEntry {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown> | undefined;
}

/** A configuration the engine refuses: `message` is what `pulumi preview` prints. */
export class PolicyConfigError extends Error {
    constructor(
        message: string,
        readonly problems: string[],
    ) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

function isLevel(v: unknown): v is EnforcementLevel {
    return typeof v === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(v);
}

/**
 * Parses a `--policy-pack-config` document: each key maps to an enforcement level or an object with an optional
 * `enforcementLevel` and properties. Errors read as the engine's.
 */
export function parsePolicyPackConfig(config: Record<string, unknown>): Map<string, PolicyConfigEntryInput> {
    const out = new Map<string, PolicyConfigEntryInput>();
    for (const [key, value] of Object.entries(config)) {
        if (typeof value === "string") {
            if (!isLevel(value)) {
                throw new PolicyConfigError(`parsing enforcement level for "${key}": "${value}" is not a valid enforcement level`, []);
            }
            out.set(key, { enforcementLevel: value, properties: undefined });
        } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) {
                throw new PolicyConfigError(
                    `parsing enforcement level for "${key}": ${JSON.stringify(enforcementLevel)} is not a valid enforcement level`,
                    [],
                );
            }
            const entry: PolicyConfigEntryInput = {
                enforcementLevel,
                properties: Object.keys(properties).length > 0 ? properties : undefined,
            };
            if (entry.enforcementLevel !== undefined || entry.properties !== undefined) out.set(key, entry);
        } else {
            throw new PolicyConfigError(`parsing "${key}": ${JSON.stringify(value)} is not a valid value; must be a string or object`, []);
        }
    }
    return out;
}

export interface PolicyConfigEntryInput {
    enforcementLevel: EnforcementLevel | undefined;
    properties: Record<string, unknown> | undefined;
}

function applyConfig(result: Map<string, PolicyConfigEntry>, apply: Map<string, PolicyConfigEntryInput>): void {
    const all = apply.get("all");
    if (all?.enforcementLevel) {
        for (const [k, v] of result) result.set(k, { enforcementLevel: all.enforcementLevel, properties: v.properties });
    }
    for (const [policy, given] of apply) {
        const current = result.get(policy);
        const enforcementLevel = given.enforcementLevel ?? current?.enforcementLevel ?? "advisory";
        let properties = current?.properties;
        if (given.properties) properties = { ...(properties ?? {}), ...given.properties };
        result.set(policy, { enforcementLevel, properties });
    }
}

/** gojsonschema wording for the common keywords, so messages match what `pulumi preview` prints. */
function describeError(e: ErrorObject): string {
    const field = e.instancePath === "" ? "(root)" : e.instancePath.slice(1).split("/").join(".");
    const p = e.params as Record<string, unknown>;
    let text: string;
    switch (e.keyword) {
        case "required":
            return `${String(p["missingProperty"])} is required`;
        case "type": {
            text = `Invalid type. Expected: ${String(p["type"])}, given: ${jsonType(e.data)}`;
            break;
        }
        case "minItems":
            text = `Array must have at least ${String(p["limit"])} items`;
            break;
        case "pattern":
            text = `Does not match pattern '${String(p["pattern"])}'`;
            break;
        case "uniqueItems":
            text = `array items[${String(p["j"])},${String(p["i"])}] must be unique`;
            break;
        case "minLength":
            text = `String length must be greater than or equal to ${String(p["limit"])}`;
            break;
        case "enum":
            text = `${field} must be one of the following: ${((p["allowedValues"] as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
            break;
        default:
            text = e.message ?? e.keyword;
    }
    return field === "(root)" ? text : `${field}: ${text}`;
}

function jsonType(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "array";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    return typeof v;
}

/**
 * Reconciles and validates like the engine. Returns every policy's entry (and any other key the given config
 * named, `all` included, as the engine does); throws PolicyConfigError listing every schema problem, each line
 * `validating policy config: <pack> <version>  <policy>: <problem>`.
 */
export function reconcilePolicyConfig(
    pack: { name: string; version: string },
    policies: readonly PolicyConfigInfo[],
    initialConfig: Map<string, PolicyConfigEntryInput>,
    config: Record<string, unknown>,
): Map<string, PolicyConfigEntry> {
    const result = new Map<string, PolicyConfigEntry>();
    for (const p of policies) {
        let properties: Record<string, unknown> | undefined;
        for (const [k, schema] of Object.entries(p.configSchema?.properties ?? {})) {
            if (schema !== null && typeof schema === "object" && "default" in schema) {
                properties ??= {};
                properties[k] = schema.default;
            }
        }
        result.set(p.name, { enforcementLevel: p.enforcementLevel, properties });
    }
    applyConfig(result, initialConfig);
    applyConfig(result, parsePolicyPackConfig(config));

    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    const problems: string[] = [];
    for (const p of policies) {
        if (!p.configSchema) continue;
        const schema = {
            type: "object",
            properties: {
                ...p.configSchema.properties,
                // The engine injects this into every schema.
                enforcementLevel: { type: "string", enum: ENFORCEMENT_LEVELS },
            },
            ...(p.configSchema.required && p.configSchema.required.length > 0 ? { required: p.configSchema.required } : {}),
        };
        const validate = ajv.compile(schema);
        if (!validate(result.get(p.name)?.properties ?? {})) {
            for (const e of validate.errors ?? []) problems.push(`${p.name}: ${describeError(e)}`);
        }
    }
    if (problems.length > 0) {
        throw new PolicyConfigError(
            problems.map((m) => `validating policy config: ${pack.name} ${pack.version}  ${m}`).join("\n"),
            problems,
        );
    }
    return result;
}
