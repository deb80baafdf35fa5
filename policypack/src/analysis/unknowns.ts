import { UNKNOWN_SENTINELS } from "./constants.js";

/**
 * Paths (`Statement[0].Principal.Federated`, `""` for the value itself) of every value the engine
 * marked unknown at preview. Looks inside JSON strings too, since a trust policy may be a JSON string
 * built by interpolation (`pulumi.interpolate`), where an unknown part makes the whole string unknown.
 */
export function findUnknowns(value: unknown, path = ""): string[] {
    if (typeof value === "string") {
        return UNKNOWN_SENTINELS.some((s) => value.includes(s)) ? [path] : [];
    }
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => findUnknowns(v, `${path}[${i}]`));
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => findUnknowns(v, path === "" ? k : `${path}.${k}`));
    }
    return [];
}
