/**
 * lazy.ts: checking a JSON stack export loads neither the YAML parser nor the JSON Schema validator (they cost
 * about 90 ms of start-up) nor the strict JSON scanner, and they load when an input needs them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(__dirname, "..", "..");
const ANALYZE = join(ROOT, "verifier", "src", "check", "analyze.ts");

/** Runs runCheck on `file` in a fresh process and lists which of yaml, ajv, jsonc-parser the process loaded. */
function loadedAfterChecking(file: string): string[] {
    const script =
        `const { runCheck } = require(${JSON.stringify(ANALYZE)});` +
        `runCheck([{ path: ${JSON.stringify(file)}, shown: "input", explicit: true }], { organizations: ["acme"] });` +
        `const names = Object.keys(require.cache).map((k) => /node_modules\\/(yaml|ajv|jsonc-parser)\\//.exec(k)?.[1]).filter(Boolean);` +
        `process.stdout.write(JSON.stringify([...new Set(names)].sort()));`;
    const out = execFileSync(process.execPath, ["--conditions=oidc-guard-source", "--import", "tsx", "-e", script], { cwd: ROOT, encoding: "utf8" });
    return JSON.parse(out) as string[];
}

describe("libraries some inputs need load on first use", () => {
    it("a JSON stack export: neither yaml nor ajv nor jsonc-parser", () => {
        assert.deepEqual(loadedAfterChecking(join(ROOT, "fixtures", "stacks", "oidc-roles-prod.stack.json")), []);
    });

    it("a YAML CloudFormation template: yaml", () => {
        assert.deepEqual(loadedAfterChecking(join(ROOT, "fixtures", "cloudformation", "pulumi-oidc.yaml")), ["jsonc-parser", "yaml"]);
    });

    it("a JSON file that repeats a key: jsonc-parser, which locates the repeat", () => {
        const dir = mkdtempSync(join(tmpdir(), "oidc-guard-lazy-"));
        try {
            const file = join(dir, "repeat.json");
            writeFileSync(file, '{"Version":"2012-10-17","Version":"2008-10-17","Statement":[]}');
            assert.deepEqual(loadedAfterChecking(file), ["jsonc-parser"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
