import { UNKNOWN_SENTINELS } from "./constants.js";

/**
 * Paths (`Statement[0].Principal.Federated`, `""` for the value itself) of every value the engine
 * marked unknown at preview. Looks inside JSON strings too, since a trust policy may be a JSON string
 * built by interpolation (`pulumi.interpolate`), where an unknown part makes the whole string unknown.
 */
export function findUnknowns(value: unknown, path = ""): string[] {
    // Nearly every value holds no sentinel: a walk that builds no paths says so first.
    return holdsUnknown(value) ? unknownPaths(value, path) : [];
}

function holdsUnknown(value: unknown): boolean {
    const stack: unknown[] = [value];
    while (stack.length > 0) {
        const v = stack.pop();
        if (typeof v === "string") {
            for (const s of UNKNOWN_SENTINELS) if (v.includes(s)) return true;
        } else if (Array.isArray(v)) {
            for (const e of v as unknown[]) stack.push(e);
        } else if (v !== null && typeof v === "object") {
            for (const k in v as Record<string, unknown>) stack.push((v as Record<string, unknown>)[k]);
        }
    }
    return false;
}

function unknownPaths(value: unknown, path: string): string[] {
    if (typeof value === "string") {
        return UNKNOWN_SENTINELS.some((s) => value.includes(s)) ? [path] : [];
    }
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => unknownPaths(v, `${path}[${i}]`));
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, path === "" ? k : `${path}.${k}`));
    }
    return [];
}
