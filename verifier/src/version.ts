import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ToolInfo } from "./results.js";

let cached: ToolInfo | undefined;

/** Name and version from verifier/package.json (works from src/ under tsx and from bin/ compiled). */
export function toolInfo(): ToolInfo {
    if (!cached) {
        const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string };
        cached = { name: "oidc-guard", version: pkg.version };
    }
    return cached;
}
