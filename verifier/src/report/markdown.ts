/**
 * GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` and pull-request comments: the counts first, then one table
 * row per role/environment, then the compliant roles with what they admit, then the findings folded in
 * `<details>`. Every value is escaped, so names cannot inject markup or break the table.
 */
import type { Severity } from "oidc-guard-policypack/analysis";
import { escapeHtml, escapeMarkdown, escapeText } from "../escape.js";
import {
    SEVERITIES,
    formatAdmitted,
    formatToken,
    splitCode,
    whereText,
    worstSeverity,
    type EntryStatus,
    type ReportEntry,
    type ReportModel,
} from "./model.js";

/** GitHub rejects step summaries over 1 MiB; stay below with room for other steps. */
export const MARKDOWN_BUDGET = 900 * 1024;
/** Largest accepted `--markdown-max-kib`: 100 MiB. */
export const MARKDOWN_MAX_KIB = 100 * 1024;

export const STATUS_ICON: Record<EntryStatus, string> = { pass: "✅", fail: "❌", unknown: "❔", error: "⚠️" };
const STATUS_LABEL: Record<EntryStatus, string> = { pass: "pass", fail: "fail", unknown: "unknown", error: "error" };

/** An `@` that GitHub would read as the start of a mention: a user or team name starts with a letter or digit. */
const MENTION = /@(?=[A-Za-z0-9])/g;

/**
 * Escaped text (outside code) with a zero-width space after each `@` that would start a mention, written as the
 * character reference `&#8203;`: GitHub notifies whoever `@name` or `@org/team` names when a report is posted as a
 * pull-request comment, and it finds mentions in the rendered text, so an escape (`\@`, `&#64;`) would still notify.
 * The text reads the same; bots that quote text in comments do the same (Renovate writes `@&#8203;`). Code spans
 * and fenced blocks need none: GitHub finds no mention in code.
 */
export function defuseMentions(escaped: string): string {
    return escaped.includes("@") ? escaped.replace(MENTION, "@&#8203;") : escaped;
}

/**
 * Escapes text for Markdown (inline) and for the HTML GitHub allows inside it, and defuses @mentions
 * ({@link defuseMentions}). Pipes are left to `cell`. Bare URLs are left to GitHub's autolinks: the link shows where
 * it goes, and the report's own "Docs:" links are such URLs.
 */
export function mdText(value: string): string {
    return defuseMentions(escapeMarkdown(value));
}

/**
 * Text inside an HTML block (the `<summary>` of `<details>`): GitHub reads no Markdown there, backslash escapes
 * included, so the text is escaped as HTML (controls shown, line breaks too: none can end the block), and @mentions
 * are defused as in {@link mdText}.
 */
function htmlText(value: string): string {
    return defuseMentions(escapeHtml(value));
}

/**
 * Text whose `backtick` spans are code, as the rule catalog and the analysis write their messages: the code spans
 * stay code (escaped as such), the rest is escaped text.
 */
export function mdInline(value: string): string {
    return splitCode(value)
        .map((part, i) => (i % 2 === 1 ? mdCode(part) : mdText(part)))
        .join("");
}


/** The longest run of backticks in `text`, at least `min` (a loop: a value may hold any number of runs). */
function longestRun(text: string, min: number): number {
    let longest = min;
    for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
    return longest;
}

/** An inline code span that survives any backticks inside the value. */
export function mdCode(value: string): string {
    // Controls shown as escapes: a CR or U+2028 inside a code span would still end the table row.
    const v = escapeText(value);
    const longest = longestRun(v, 0);
    const fence = "`".repeat(longest + 1);
    const pad = v.startsWith("`") || v.endsWith("`") ? " " : "";
    return `${fence}${pad}${v}${pad}${fence}`;
}

/** A table cell: a pipe ends a cell even inside a code span in GFM tables, so escape every pipe. */
function cell(value: string): string {
    return value.replace(/\|/g, "\\|");
}

/** A fenced block that survives any backtick runs in the content. */
function fenced(raw: string, lang: string): string {
    const content = escapeText(raw, { keepNewlines: true });
    const longest = longestRun(content, 2);
    const fence = "`".repeat(longest + 1);
    return `${fence}${lang}\n${content}\n${fence}`;
}

function admitsCell(entry: ReportEntry): string {
    if (entry.source === "verify") {
        return entry.callerIdentity ? `assumed ${mdCode(entry.callerIdentity.arn)}` : "";
    }
    return entry.admitted
        .map((set) => {
            const a = formatAdmitted(set);
            return `aud ${set.audiences === null ? mdText(a.audiences) : (set.audiences.map(mdCode).join(", ") || "none")}; sub ${set.subjects.length === 0 ? mdText(a.subjects) : set.subjects.map(mdCode).join(", ")}`;
        })
        .join("<br>");
}

function findingsCell(entry: ReportEntry): string {
    const worst = worstSeverity(entry.findings);
    return entry.findings.length === 0 ? "0" : `${entry.findings.length} (${worst ?? ""})`;
}

function detailsBlock(entry: ReportEntry): string {
    const summary = `${STATUS_ICON[entry.status]} ${entry.kind} ${htmlText(entry.name)}: ${entry.findings.length} finding${entry.findings.length === 1 ? "" : "s"}`;
    const parts: string[] = [`<details><summary>${summary}</summary>`, ""];
    if (entry.urn) parts.push(`Resource ${mdCode(entry.urn)} in ${mdCode(entry.file ?? "")}`, "");
    for (const f of entry.findings) {
        parts.push(`**${f.severity}** · ${mdCode(f.rule.id)} · ${mdInline(f.rule.title)}`, "");
        parts.push(`- What: ${mdInline(f.message)}`);
        parts.push(`- Where: ${mdCode(whereText(entry, f))}${f.path ? ` at ${mdCode(f.path)}` : ""}`);
        if (f.counterexample) {
            parts.push(`- A token that gets in: ${f.tokenDescription ? `${mdText(f.tokenDescription)}, ` : ""}${mdCode(formatToken(f.counterexample))}`);
        }
        if (f.blastRadius?.length) {
            parts.push(`- Blast radius (worst first):`);
            for (const b of f.blastRadius) {
                parts.push(`  - ${mdCode(b.class)}: ${mdText(b.description)}, e.g. ${mdCode(formatToken(b.counterexample))}`);
            }
        }
        for (const r of f.readings ?? []) parts.push(`- Reading taken: ${mdText(r)}`);
        if (f.advisory) parts.push(`- Advisory: does not fail the role`);
        parts.push(`- Fix: ${mdInline(f.remediation)}`);
        parts.push(`- Docs: ${mdText(f.rule.url)}`, "");
        if (f.statement) parts.push(fenced(f.statement, "json"), "");
    }
    for (const fact of entry.facts) parts.push(`- ${mdText(fact.label)}: ${mdCode(fact.value)}`);
    if (entry.facts.length > 0) parts.push("");
    if (entry.checks.length > 0) {
        parts.push("| Check | Status | Detail |", "|---|---|---|");
        for (const c of entry.checks) parts.push(`| ${cell(mdCode(c.id))} | ${c.status} | ${cell(mdInline(c.detail))} |`);
        parts.push("");
    }
    parts.push("</details>", "");
    return parts.join("\n");
}

/** UTF-8 bytes of `lines` joined by newlines (with the newline that follows the last). */
function bytesOf(lines: readonly string[]): number {
    let n = 0;
    for (const l of lines) n += Buffer.byteLength(l) + 1;
    return n;
}

/**
 * Renders the model as Markdown within `budget` bytes (GitHub rejects a step summary over 1 MiB as a whole). What
 * does not fit is left out with a note, least important first: the findings' details, then the list of compliant
 * targets (and of environments not verified), then the table's last rows (the table is worst first, so the rows
 * left out are the least severe). The counts at the top are always whole.
 */
export function renderMarkdown(model: ReportModel, budget = MARKDOWN_BUDGET): string {
    const { status, severity } = model.counts;
    const total = model.entries.length;
    const kib = Math.round(budget / 1024);
    const headline =
        total === 0
            ? "⚠️ **Nothing was checked**: the inputs hold no role and no environment."
            : model.passed
              ? `✅ **All ${total} passed**`
              : `❌ **${total - status.pass} of ${total} did not pass**`;
    const intro: string[] = [
        "## oidc-guard compliance report",
        "",
        `${headline} · ${model.counts.checked} checked resource(s), ${model.counts.verified} environment verification(s) · ${mdText(model.tool.name)} ${mdText(model.tool.version)} · ${mdText(model.generatedAt)}`,
        "",
        "| Verdict | Count |",
        "|---|---:|",
        ...(["pass", "fail", "unknown", "error"] as const).map((s) => `| ${STATUS_ICON[s]} ${STATUS_LABEL[s]} | ${status[s]} |`),
        "",
        `Findings by severity: ${SEVERITIES.map((s: Severity) => `${s} **${severity[s]}**`).join(" · ")}`,
        "",
    ];
    const tableHead = ["| | Target | Kind | Input | Verdict | Findings | Admits / identity |", "|---|---|---|---|---|---|---|"];
    // Each part is made only as far as it could fit: a text with more than `budget` bytes that no newline holds
    // cannot fit, however `finish` folds its blank lines. (100,000 roles: 3 MB of rows and 70,000 findings' details
    // were made and joined, then thrown away, for a report of 900 KiB.)
    const rows = within(model.entries, tableRow, budget);
    const compliant = model.entries.filter((e) => e.status === "pass");
    const lists = within(compliant, compliantLine, budget, ["### Compliant, and what they admit", ""], [""]);
    const skippedList = within(model.skipped, (sk) => `- ${mdCode(sk.environment)}: ${mdInline(sk.reason)}`, budget, ["### Listed but not verified", ""], [""]);
    const withFindings = model.entries.filter((e) => e.findings.length > 0);
    const details = within(withFindings, detailsBlock, budget, ["### Findings", ""]);

    const table = (shown: readonly string[], note: string[] = []): string[] => (total > 0 ? [...tableHead, ...shown, "", ...note] : []);
    // Ends with a blank line, also after `</details>`: GitHub's Markdown ends an HTML block only at a blank line, so
    // a report appended after this one (`>> $GITHUB_STEP_SUMMARY`) would otherwise be read as part of it.
    const finish = (parts: readonly string[]): string => parts.join("\n").replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n\n");
    // Measured as written (`finish` folds blank lines); a count of the lines alone is only an upper bound, cheap to
    // take first, and their bytes but their newlines a lower bound.
    const fits = (parts: readonly string[]): boolean =>
        bytesOf(parts) + 1 <= budget || (keptBytes(parts) <= budget && Buffer.byteLength(finish(parts)) <= budget);
    const allLists = [...lists.lines, ...skippedList.lines];
    if (rows.whole && lists.whole && skippedList.whole && details.whole) {
        const whole = [...intro, ...table(rows.lines), ...allLists, ...details.lines];
        if (fits(whole)) return finish(whole);
    }

    const detailsNote = withFindings.length > 0 ? ["### Findings", "", `_Details left out: they would exceed ${kib} KiB. Write the HTML or SARIF report for them._`, ""] : [];
    if (rows.whole && lists.whole && skippedList.whole) {
        const withoutDetails = [...intro, ...table(rows.lines), ...allLists, ...detailsNote];
        if (fits(withoutDetails)) return finish(withoutDetails);
    }

    const listed = [...(compliant.length > 0 ? ["compliant targets"] : []), ...(model.skipped.length > 0 ? ["environments not verified"] : [])];
    const listsNote =
        listed.length > 0 ? [`_The list of ${listed.join(" and of ")} is left out: it would exceed ${kib} KiB. The HTML, SARIF and JSON reports have it._`, ""] : [];
    if (rows.whole) {
        const withoutLists = [...intro, ...table(rows.lines), ...listsNote, ...detailsNote];
        if (fits(withoutLists)) return finish(withoutLists);
    }

    // The table's first rows, as many as fit next to a note on the rest. `rows` holds more than fit: its lines
    // hold more than `budget` bytes (or all of the rows).
    const rowsNote = (left: number): string[] => {
        const notPassing = model.entries.slice(total - left).filter((e) => e.status !== "pass").length;
        return [`_…and ${left} more target(s) (${notPassing} not passing) left out: the table would exceed ${kib} KiB. The HTML, SARIF and JSON reports list every target._`, ""];
    };
    let room = budget - 1 - bytesOf([...intro, ...table([], rowsNote(total)), ...listsNote, ...detailsNote]);
    let shown = 0;
    while (shown < rows.lines.length && Buffer.byteLength(rows.lines[shown]!) + 1 <= room) {
        room -= Buffer.byteLength(rows.lines[shown]!) + 1;
        shown++;
    }
    return finish([...intro, ...table(rows.lines.slice(0, shown), rowsNote(total - shown)), ...listsNote, ...detailsNote]);
}

/** One table row. */
function tableRow(e: ReportEntry): string {
    const target = e.urn ? `${mdText(e.name)}<br>${mdCode(e.urn)}` : mdCode(e.name);
    const input = e.source === "verify" ? "verify" : mdCode(e.file ?? "");
    return `| ${STATUS_ICON[e.status]} | ${cell(target)} | ${e.kind} | ${cell(input)} | ${e.verdict} | ${findingsCell(e)} | ${cell(admitsCell(e))} |`;
}

/**
 * A part of the report: `head`, a line for each item, then `tail`; no lines when there are no items. Its lines stop
 * once they hold more than `budget` bytes besides their newlines (`whole` is then false): more would not fit.
 */
function within<T>(items: readonly T[], line: (item: T) => string, budget: number, head: string[] = [], tail: string[] = []): { lines: string[]; whole: boolean } {
    if (items.length === 0) return { lines: [], whole: true };
    const lines = [...head];
    let kept = keptBytes(head);
    for (const item of items) {
        const l = line(item);
        lines.push(l);
        kept += keptBytes([l]);
        if (kept > budget) return { lines, whole: false };
    }
    for (const t of tail) lines.push(t);
    return { lines, whole: true };
}

/** UTF-8 bytes of `lines` but their newlines: what of them `finish` keeps however it folds blank lines. */
function keptBytes(lines: readonly string[]): number {
    let n = 0;
    for (const l of lines) {
        n += Buffer.byteLength(l);
        for (let i = l.indexOf("\n"); i >= 0; i = l.indexOf("\n", i + 1)) n--;
    }
    return n;
}

/** One compliant target and what it admits (a verified environment: the identity it got). */
function compliantLine(e: ReportEntry): string {
    if (e.source === "verify") {
        const facts = e.facts.filter((f) => f.label === "Caller identity" || f.label === "Expected role");
        return `- ${STATUS_ICON.pass} ${mdText(e.name)}: ${e.checks.length === 1 && !e.callerIdentity ? mdInline(e.checks[0]?.detail ?? "") : "verified"}${facts.map((f) => `; ${mdText(f.label.toLowerCase())} ${mdCode(f.value)}`).join("")}`;
    }
    const sets = e.admitted.map((set) => {
        const a = formatAdmitted(set);
        return `from ${mdCode(a.issuer)}: audiences ${set.audiences ? set.audiences.map(mdCode).join(", ") || "none" : mdText(a.audiences)}; subjects ${set.subjects.map(mdCode).join(", ") || mdText(a.subjects)}`;
    });
    const admits = sets.length > 0 ? sets.join("; ") : e.kind === "role" ? "no Pulumi token can assume it" : e.notes.map(mdInline).join(" ") || "passed";
    return `- ${STATUS_ICON.pass} ${mdText(e.name)} (${mdCode(whereText(e))}): ${admits}`;
}
