/**
 * Validates ESC API response bodies against the ESC OpenAPI description (esc-openapi.yaml, a verbatim subset of
 * pulumi/esc-sdk sdk/swagger.yaml), relaxed only where the description disagrees with the wire (listed in the
 * YAML's header). Used by the ESC stand-in to check every response it sends.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parse as parseYaml } from "yaml";

/** The operations the stand-in serves. */
export type EscRoute = "list" | "definition" | "open" | "read" | "readProperty";

interface Doc {
    components: { schemas: Record<string, Record<string, unknown>> };
}

let validators: Map<string, ValidateFunction> | undefined;

function schemaNames(): Map<string, ValidateFunction> {
    if (validators) return validators;
    const doc = parseYaml(readFileSync(join(__dirname, "esc-openapi.yaml"), "utf8")) as Doc;
    const schemas = structuredClone(doc.components.schemas);
    // Deviations of the wire from the description (see the YAML header).
    const relax = (name: string, required: string[]): void => {
        const s = schemas[name];
        if (!s) throw new Error(`esc-openapi.yaml has no schema ${name}`);
        s.required = required;
    };
    relax("Value", ["trace"]);
    relax("Range", ["begin", "end"]);
    relax("Accessor", ["range"]);
    const defValues = schemas.EnvironmentDefinitionValues as { properties: Record<string, Record<string, unknown>> } | undefined;
    if (!defValues) throw new Error("esc-openapi.yaml has no schema EnvironmentDefinitionValues");
    for (const k of ["environmentVariables", "files"]) {
        const p = defValues.properties[k];
        if (p) p.additionalProperties = true;
    }
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "esc", components: { schemas } });
    validators = new Map();
    for (const name of ["Error", "OrgEnvironments", "OpenEnvironment", "EnvironmentDiagnostics", "Environment", "Value", "EnvironmentDefinition"]) {
        validators.set(name, ajv.compile({ $ref: `esc#/components/schemas/${name}` }));
    }
    return validators;
}

/** The schema a response must match, by route and status (per the description's `responses`). */
export function responseSchema(route: EscRoute, status: number): string {
    if (status === 200) {
        switch (route) {
            case "list":
                return "OrgEnvironments";
            case "definition":
                return "EnvironmentDefinition";
            case "open":
                return "OpenEnvironment";
            case "read":
                return "Environment";
            case "readProperty":
                return "Value";
            default:
                return route satisfies never;
        }
    }
    if (status === 400 && route === "open") return "EnvironmentDiagnostics";
    return "Error";
}

/** Validates `body` (already parsed) for a response; returns human-readable errors, empty when valid. */
export function validateEscResponse(route: EscRoute, status: number, body: unknown): string[] {
    const name = responseSchema(route, status);
    const v = schemaNames().get(name);
    if (!v) return [`no validator for ${name}`];
    if (v(body)) return [];
    return (v.errors ?? []).map((e) => `${route} ${status} (${name}): ${e.instancePath || "/"} ${e.message ?? "invalid"}`);
}
