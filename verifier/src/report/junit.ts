/**
 * JUnit XML in the common Ant/Jenkins dialect that Jenkins, GitLab and GitHub test reporters read: one
 * `<testsuite>` per input (the checked file, or the ESC environment), one `<testcase>` per role, provider or
 * environment. `fail` → `<failure>`, `error` → `<error>`, `unknown` (preview) → `<failure type="unknown">`: an
 * undecided role is never shown green. Positive evidence goes to `<system-out>`.
 */
import { batched } from "../chunks.js";
import { escapeXml, xmlLines } from "../escape.js";
import { formatAdmitted, formatToken, whereText, worstSeverity, type ReportEntry, type ReportModel } from "./model.js";

/** Removes characters XML 1.0 cannot hold, then escapes markup. */
export function xmlEscape(value: string): string {
    return escapeXml(value);
}

function attrs(values: Record<string, string | number | undefined>): string {
    return Object.entries(values)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
        .join("");
}

/** The findings' lines, an empty line between two findings. */
function details(entry: ReportEntry): string[] {
    const lines: string[] = [];
    for (const f of entry.findings) {
        if (lines.length > 0) lines.push("");
        lines.push(`[${f.severity}] ${f.rule.id}: ${f.rule.title}`, `  ${f.message}`, `  where: ${whereText(entry, f)}${f.path ? ` ${f.path}` : ""}`);
        if (f.counterexample) lines.push(`  a token that gets in: ${formatToken(f.counterexample)}`);
        lines.push(`  fix: ${f.remediation}`, `  see: ${f.rule.url}`);
    }
    return lines;
}

function evidence(entry: ReportEntry): string[] {
    const lines: string[] = [];
    for (const set of entry.admitted) {
        const a = formatAdmitted(set);
        lines.push(`admits from ${a.issuer}: audiences ${a.audiences}; subjects ${a.subjects}`);
    }
    for (const c of entry.checks) lines.push(`${c.status.padEnd(4)} ${c.id}: ${c.detail}`);
    for (const fact of entry.facts) lines.push(`${fact.label.toLowerCase()}: ${fact.value}`);
    for (const n of entry.notes) lines.push(`note: ${n}`);
    return lines;
}

function testcase(entry: ReportEntry, classname: string): string {
    const name = entry.urn ? `${entry.name} (${entry.urn})` : entry.name;
    const head = `    <testcase${attrs({ classname, name, file: entry.file, line: entry.position?.line, time: 0 })}`;
    const body: string[] = [];
    const first = entry.findings[0];
    const summary = first ? `${first.message}${entry.findings.length > 1 ? ` (+${entry.findings.length - 1} more)` : ""}` : entry.verdict;
    if (entry.status === "fail") {
        body.push(`      <failure${attrs({ message: summary, type: worstSeverity(entry.findings) ?? "fail" })}>${xmlLines(details(entry))}</failure>`);
    } else if (entry.status === "unknown") {
        body.push(`      <failure${attrs({ message: `unknown at preview: ${summary}`, type: "unknown" })}>${xmlLines(details(entry))}</failure>`);
    } else if (entry.status === "error") {
        body.push(`      <error${attrs({ message: summary, type: "error" })}>${xmlLines(details(entry))}</error>`);
    }
    const out = evidence(entry);
    if (out.length > 0) body.push(`      <system-out>${xmlLines(out)}</system-out>`);
    return body.length === 0 ? `${head}/>` : `${head}>\n${body.join("\n")}\n    </testcase>`;
}

function counts(entries: readonly ReportEntry[]): { tests: number; failures: number; errors: number; skipped: number } {
    return {
        tests: entries.length,
        failures: entries.filter((e) => e.status === "fail" || e.status === "unknown").length,
        errors: entries.filter((e) => e.status === "error").length,
        skipped: 0,
    };
}

/** Renders the model as JUnit XML. */
export function renderJunit(model: ReportModel): string {
    return [...renderJunitChunks(model)].join("");
}

/** The JUnit XML in chunks of whole lines: the test cases of a suite a batch at a time. */
export function* renderJunitChunks(model: ReportModel): Generator<string> {
    const suites = new Map<string, ReportEntry[]>();
    for (const e of model.entries) {
        const key = `${e.source}: ${e.suite}`;
        const list = suites.get(key) ?? [];
        list.push(e);
        suites.set(key, list);
    }
    const total = counts(model.entries);
    total.tests += model.skipped.length;
    total.skipped += model.skipped.length;
    // Every chunk is whole lines, each ending with its newline; the document ends with one.
    const lines = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join("");
    yield lines([`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites${attrs({ name: model.tool.name, ...total, time: 0 })}>`]);
    let id = 0;
    for (const [name, entries] of suites) {
        const classname = `${model.tool.name}.${name.startsWith("verify") ? "verify" : "check"}`;
        yield lines([
            `  <testsuite${attrs({ name, id: id++, ...counts(entries), time: 0, timestamp: model.generatedAt.replace(/\.\d+Z$/, ""), hostname: "localhost" })}>`,
            `    <properties>${`<property${attrs({ name: "tool", value: `${model.tool.name} ${model.tool.version}` })}/>`}</properties>`,
        ]);
        yield* batched(entries, (e) => `${testcase(e, classname)}\n`, "");
        yield lines(["  </testsuite>"]);
    }
    if (model.skipped.length > 0) {
        // Listed by `verify --all` but out of scope (e.g. no aws-login): skipped, neither passed nor failed.
        yield lines([
            `  <testsuite${attrs({ name: "verify: listed but not verified", id, tests: model.skipped.length, failures: 0, errors: 0, skipped: model.skipped.length, time: 0 })}>`,
        ]);
        const skippedCase = (sk: { environment: string; reason: string }): string =>
            `    <testcase${attrs({ classname: `${model.tool.name}.verify`, name: sk.environment, time: 0 })}>\n      <skipped${attrs({ message: sk.reason })}/>\n    </testcase>`;
        yield* batched(model.skipped, (sk) => `${skippedCase(sk)}\n`, "");
        yield lines(["  </testsuite>"]);
    }
    yield "</testsuites>\n";
}
