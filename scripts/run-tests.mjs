#!/usr/bin/env node
// Runs every *.test.ts under policypack/src, verifier/src, fixtures and scripts with node:test through tsx.
// Node 20 does not expand globs for --test, so the file list is built here.
// `npm test -- <substring>...` runs only the files whose path contains one of the substrings.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const roots = ["policypack/src", "verifier/src", "fixtures", "scripts"];

function walk(dir) {
    let entries;
    try {
        entries = readdirSync(dir, { withFileTypes: true });
    } catch {
        return [];
    }
    return entries.flatMap((e) => {
        if (e.name === "node_modules" || e.name === "bin") return [];
        const p = join(dir, e.name);
        return e.isDirectory() ? walk(p) : e.name.endsWith(".test.ts") ? [p] : [];
    });
}

const filters = process.argv.slice(2);
const files = roots
    .flatMap((r) => walk(join(root, r)))
    .map((f) => relative(root, f))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();
if (files.length === 0) {
    console.error(`run-tests: no test files matched ${filters.join(" ") || "(all)"}`);
    process.exit(1);
}
const result = spawnSync(
    process.execPath,
    ["--conditions=oidc-guard-source", "--import", "tsx", "--test", ...files],
    { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
