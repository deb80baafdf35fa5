#!/usr/bin/env node
// Runs every *.test.ts under policypack/src, verifier/src, fixtures and scripts with node:test through tsx.
// Node 20 does not expand globs for --test, so the file list is built here.
// `npm test -- <substring>...` runs only the files whose path contains one of the substrings.
// Under CI=true a skipped (or todo) test fails the run: CI must not pass without what it tests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
// The human-readable report goes to the terminal; a TAP copy goes to a file so the skips can be counted.
const tapDir = mkdtempSync(join(tmpdir(), "oidc-guard-tests-"));
const tapFile = join(tapDir, "report.tap");
const result = spawnSync(
    process.execPath,
    [
        "--conditions=oidc-guard-source",
        "--import",
        "tsx",
        "--test",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=tap",
        `--test-reporter-destination=${tapFile}`,
        ...files,
    ],
    { cwd: root, stdio: "inherit" },
);
let status = result.status ?? 1;
if (process.env.CI === "true") {
    let tap = "";
    try {
        tap = readFileSync(tapFile, "utf8");
    } catch {
        // No report at all: the status above already says the run failed.
    }
    const count = (name) => [...tap.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
    const skipped = count("skipped") + count("todo");
    if (skipped > 0) {
        const lines = tap.split("\n").filter((l) => /# (SKIP|TODO)\b/.test(l)).map((l) => `  ${l.trim()}`);
        console.error(`run-tests: CI=true and ${skipped} test(s) were skipped or todo; under CI that is a failure:\n${lines.join("\n")}`);
        if (status === 0) status = 1;
    }
}
rmSync(tapDir, { recursive: true, force: true });
process.exit(status);
