/**
 * One self-contained HTML page for auditors: inline CSS, inline script and an inline SVG chart, no URL that a
 * browser would fetch (a Content-Security-Policy with `default-src 'none'` makes sure of it), so the file can be
 * opened anywhere and filed as is. A summary at a glance (counts by verdict, findings by severity as a chart), a
 * table of roles and environments sortable by clicking a header, the compliant roles with what they admit, and per
 * finding the statement, a token that gets in and the fix. A print stylesheet keeps it readable on paper.
 * Every value is HTML-escaped; the script reads only the page's own cells.
 */
import { createHash } from "node:crypto";
import { batched } from "../chunks.js";
import { escapeHtml } from "../escape.js";
import type { Severity } from "oidc-guard-policypack/analysis";
import {
    SEVERITIES,
    SEVERITY_RANK,
    formatAdmitted,
    formatToken,
    splitCode,
    whereText,
    worstSeverity,
    type EntryStatus,
    type ReportEntry,
    type ReportFinding,
    type ReportModel,
} from "./model.js";

/** Escapes text and attribute values. */
export function htmlEscape(value: string): string {
    return escapeHtml(value, { keepNewlines: true });
}

const h = htmlEscape;

/** Escaped text whose `backtick` spans become `<code>` (the catalog's and the analysis' convention). */
function inline(value: string): string {
    return splitCode(value)
        .map((part, i) => (i % 2 === 1 ? `<code>${h(part)}</code>` : h(part)))
        .join("");
}

const STATUS_ORDER: EntryStatus[] = ["pass", "fail", "unknown", "error"];
const STATUS_SORT: Record<EntryStatus, number> = { error: 0, fail: 1, unknown: 2, pass: 3 };
const STATUS_TEXT: Record<EntryStatus, string> = { pass: "pass", fail: "fail", unknown: "unknown", error: "error" };
const COLORS: Record<EntryStatus | Severity, string> = {
    pass: "#1a7f37",
    fail: "#cf222e",
    unknown: "#9a6700",
    error: "#8250df",
    critical: "#a40e26",
    high: "#cf222e",
    medium: "#bc4c00",
    low: "#57606a",
};

const CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.25em; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 1.1em; margin: 24px 0 8px; } h4 { font-size: 1em; margin: 0 0 8px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.banner { font-size: 1.15em; font-weight: 600; padding: 10px 14px; border-radius: 6px; border: 1px solid; margin: 0; }
.banner.ok { color: #1a7f37; background: #dafbe1; border-color: #1a7f37; }
.banner.bad { color: #a40e26; background: #ffebe9; border-color: #cf222e; }
.summary { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(90px, 1fr)); gap: 10px; flex: 1 1 360px; }
.card { border: 1px solid var(--line); border-left: 6px solid; border-radius: 6px; padding: 8px 12px; }
.card .n { display: block; font-size: 1.8em; font-weight: 700; line-height: 1.1; }
.card .l { color: var(--muted); }
.card.pass { border-left-color: ${COLORS.pass}; } .card.fail { border-left-color: ${COLORS.fail}; }
.card.unknown { border-left-color: ${COLORS.unknown}; } .card.error { border-left-color: ${COLORS.error}; }
figure { margin: 0; flex: 1 1 420px; } figcaption { color: var(--muted); font-size: 0.9em; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #1f2328; }
table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th, .badge, .sev { white-space: nowrap; }
td code, td .urn, td a, td .name { overflow-wrap: anywhere; }
thead th { background: var(--bg-alt); }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th button::after { content: " ↕"; color: var(--muted); }
th[aria-sort="ascending"] button::after { content: " ▲"; color: var(--fg); }
th[aria-sort="descending"] button::after { content: " ▼"; color: var(--fg); }
tbody tr:nth-child(even) { background: var(--bg-alt); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
pre { background: var(--bg-alt); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.urn { color: var(--muted); font-size: 0.85em; word-break: break-all; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-weight: 600; color: #fff; }
.badge.pass { background: ${COLORS.pass}; } .badge.fail { background: ${COLORS.fail}; }
.badge.unknown { background: ${COLORS.unknown}; } .badge.error { background: ${COLORS.error}; }
.sev { font-weight: 600; text-transform: uppercase; font-size: 0.85em; }
.sev.critical { color: ${COLORS.critical}; } .sev.high { color: ${COLORS.high}; } .sev.medium { color: ${COLORS.medium}; } .sev.low { color: ${COLORS.low}; }
.entry { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.finding { border-top: 1px dashed var(--line); padding-top: 10px; margin-top: 10px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
dt { font-weight: 600; color: var(--muted); } dd { margin: 0; min-width: 0; }
ul.admits { margin: 4px 0; padding-left: 18px; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; }
@page { margin: 14mm; }
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  .banner, .badge, .card, tbody tr:nth-child(even) { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  th button::after, th[aria-sort] button::after { content: none; }
  th button { cursor: default; }
  a { color: inherit; text-decoration: none; }
  pre { white-space: pre-wrap; overflow: visible; }
  .entry, .finding, figure, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
`;

/** Sorts the table by the clicked column; cells carry their sort key in `data-sort`. No data, no network. */
const SCRIPT = `
(function () {
  var table = document.getElementById("entries");
  if (!table) return;
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      heads.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir);
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) { var c = row.cells[col]; return c ? (c.getAttribute("data-sort") || c.textContent || "") : ""; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var nx = Number(x), ny = Number(y);
        var cmp = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y, undefined, { numeric: true });
        if (cmp === 0) cmp = Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index"));
        return dir === "ascending" ? cmp : -cmp;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
`;

function sha256(text: string): string {
    return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

function barChart(model: ReportModel): string {
    const rows: { label: string; value: number; color: string; group: string }[] = [
        ...STATUS_ORDER.map((s) => ({ label: STATUS_TEXT[s], value: model.counts.status[s], color: COLORS[s], group: "verdict" })),
        ...SEVERITIES.map((s) => ({ label: s, value: model.counts.severity[s], color: COLORS[s], group: "severity" })),
    ];
    const max = rows.reduce((m, r) => Math.max(m, r.value), 1);
    const labelW = 80;
    const barW = 300;
    const rowH = 22;
    const groupGap = 26;
    let y = 18;
    const parts: string[] = [`<text x="0" y="12" font-weight="600">Roles and environments by verdict</text>`];
    rows.forEach((r, i) => {
        if (i === STATUS_ORDER.length) {
            y += groupGap;
            parts.push(`<text x="0" y="${y - 6}" font-weight="600">Findings by severity</text>`);
        }
        const w = Math.round((r.value / max) * barW);
        parts.push(
            `<g data-group="${r.group}" data-label="${h(r.label)}"><text x="0" y="${y + 15}">${h(r.label)}</text>` +
                `<rect x="${labelW}" y="${y + 3}" width="${Math.max(w, r.value > 0 ? 2 : 0)}" height="${rowH - 6}" rx="3" fill="${r.color}"><title>${h(r.label)}: ${r.value}</title></rect>` +
                `<text x="${labelW + w + 6}" y="${y + 15}">${r.value}</text></g>`,
        );
        y += rowH;
    });
    const height = y + 4;
    const desc = `Verdicts: ${STATUS_ORDER.map((s) => `${s} ${model.counts.status[s]}`).join(", ")}. Findings: ${SEVERITIES.map((s) => `${s} ${model.counts.severity[s]}`).join(", ")}.`;
    return `<svg role="img" aria-label="${h(desc)}" width="${labelW + barW + 50}" height="${height}" viewBox="0 0 ${labelW + barW + 50} ${height}">${parts.join("")}</svg>`;
}

function admitsHtml(entry: ReportEntry): string {
    if (entry.source === "verify") {
        return entry.callerIdentity ? `assumed <code>${h(entry.callerIdentity.arn)}</code>` : "";
    }
    if (entry.admitted.length === 0) {
        if (entry.status !== "pass") return "";
        return entry.kind === "role" ? "no Pulumi token can assume it" : entry.notes.map(inline).join(" ");
    }
    return `<ul class="admits">${entry.admitted
        .map((set) => {
            const a = formatAdmitted(set);
            const auds = set.audiences === null ? h(a.audiences) : set.audiences.map((x) => `<code>${h(x)}</code>`).join(", ") || "none";
            const subs = set.subjects.length === 0 ? h(a.subjects) : set.subjects.map((x) => `<code>${h(x)}</code>`).join(", ");
            return `<li>aud ${auds}; sub ${subs}</li>`;
        })
        .join("")}</ul>`;
}

/** Positive evidence of a verified environment: the identity it got, and the role it was meant to get. */
function verifiedHtml(entry: ReportEntry): string {
    if (entry.checks.length === 1 && !entry.callerIdentity) return `: ${inline(entry.checks[0]?.detail ?? "")}`;
    const facts = entry.facts.filter((f) => f.label === "Caller identity" || f.label === "Expected role");
    return ` verified${facts.map((f) => `; ${h(f.label.toLowerCase())} <code>${h(f.value)}</code>`).join("")}`;
}

function anchor(entry: ReportEntry, index: number): string {
    return `e${index}-${entry.id.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 60)}`;
}

function tableRow(entry: ReportEntry, index: number): string {
    const worst = worstSeverity(entry.findings);
    const name = `<span class="name">${h(entry.name)}</span>`;
    const target = entry.findings.length > 0 || entry.checks.length > 0 ? `<a href="#${anchor(entry, index)}">${name}</a>` : name;
    const input = entry.source === "verify" ? "verify" : h(whereText(entry).replace(/ \(.*\)$/, ""));
    return [
        `<tr data-index="${index}" data-status="${entry.status}">`,
        `<td data-sort="${STATUS_SORT[entry.status]}"><span class="badge ${entry.status}">${STATUS_TEXT[entry.status]}</span></td>`,
        `<td data-sort="${h(entry.name)}">${target}${entry.urn ? `<div class="urn">${h(entry.urn)}</div>` : ""}</td>`,
        `<td>${h(entry.kind)}</td>`,
        `<td data-sort="${h(entry.suite)}">${input}</td>`,
        `<td data-sort="${entry.findings.length}">${entry.findings.length}</td>`,
        `<td data-sort="${worst === undefined ? 9 : SEVERITY_RANK[worst]}">${worst ? `<span class="sev ${worst}">${worst}</span>` : "–"}</td>`,
        `<td>${admitsHtml(entry)}</td>`,
        `</tr>`,
    ].join("");
}

function findingHtml(entry: ReportEntry, f: ReportFinding): string {
    const rows: string[] = [
        `<dt>What</dt><dd>${inline(f.message)}</dd>`,
        `<dt>Where</dt><dd><code>${h(whereText(entry, f))}</code>${f.path ? ` at <code>${h(f.path)}</code>` : ""}</dd>`,
    ];
    if (f.statement) rows.push(`<dt>Statement</dt><dd><pre>${h(f.statement)}</pre></dd>`);
    if (f.counterexample) rows.push(`<dt>A token that gets in</dt><dd>${f.tokenDescription ? `${h(f.tokenDescription)}<br>` : ""}<pre>${h(JSON.stringify(f.counterexample, null, 2))}</pre><span class="urn">${h(formatToken(f.counterexample))}</span></dd>`);
    if (f.blastRadius?.length) {
        const items = f.blastRadius.map((b) => `<li data-class="${h(b.class)}"><code>${h(b.class)}</code>: ${h(b.description)}; e.g. <span class="urn">${h(formatToken(b.counterexample))}</span></li>`);
        rows.push(`<dt>Blast radius</dt><dd><ol class="blast">${items.join("")}</ol></dd>`);
    }
    if (f.readings?.length) rows.push(`<dt>Readings taken</dt><dd><ul>${f.readings.map((r) => `<li>${h(r)}</li>`).join("")}</ul></dd>`);
    if (f.advisory) rows.push(`<dt>Advisory</dt><dd>does not fail the role</dd>`);
    rows.push(`<dt>Fix</dt><dd>${inline(f.remediation)}</dd>`);
    rows.push(`<dt>Rule</dt><dd><code>${h(f.rule.id)}</code> (${h(f.rule.policy)}); docs: <span class="urn">${h(f.rule.url)}</span></dd>`);
    return `<div class="finding" data-rule="${h(f.rule.id)}"><h4><span class="sev ${f.severity}">${f.severity}</span> ${h(f.rule.title)}</h4><dl>${rows.join("")}</dl></div>`;
}

function entryHtml(entry: ReportEntry, index: number): string {
    const head = `<h3><span class="badge ${entry.status}">${STATUS_TEXT[entry.status]}</span> ${h(entry.kind)} ${h(entry.name)}</h3>`;
    const meta: string[] = [];
    if (entry.urn) meta.push(`<dt>Resource</dt><dd><code>${h(entry.urn)}</code>${entry.resourceType ? ` (${h(entry.resourceType)})` : ""}</dd>`);
    if (entry.file) meta.push(`<dt>Input</dt><dd><code>${h(entry.file)}</code></dd>`);
    if (entry.origin) meta.push(`<dt>Result file</dt><dd><code>${h(entry.origin)}</code></dd>`);
    for (const fact of entry.facts) meta.push(`<dt>${h(fact.label)}</dt><dd><code>${h(fact.value)}</code></dd>`);
    for (const n of entry.notes) meta.push(`<dt>Note</dt><dd>${inline(n)}</dd>`);
    const checks =
        entry.checks.length === 0
            ? ""
            : `<table class="checks"><thead><tr><th>Check</th><th>Status</th><th>Detail</th></tr></thead><tbody>${entry.checks
                  .map((c) => `<tr><td><code>${h(c.id)}</code></td><td>${h(c.status)}</td><td>${inline(c.detail)}</td></tr>`)
                  .join("")}</tbody></table>`;
    return `<article class="entry" id="${anchor(entry, index)}">${head}${meta.length ? `<dl>${meta.join("")}</dl>` : ""}${checks}${entry.findings.map((f) => findingHtml(entry, f)).join("")}</article>`;
}

/** Renders the model as one self-contained HTML page. */
export function renderHtml(model: ReportModel): string {
    return [...renderHtmlChunks(model)].join("");
}

/**
 * The page in chunks: the head, then the table rows, the compliant list and the details a batch at a time (a check
 * of 100,000 roles makes a page of about 290 MB, past what one string may hold).
 */
export function* renderHtmlChunks(model: ReportModel): Generator<string> {
    const { status } = model.counts;
    const total = model.entries.length;
    const banner =
        total === 0
            ? `<p class="banner bad" data-testid="overall">Nothing was checked: the inputs hold no role and no environment.</p>`
            : model.passed
              ? `<p class="banner ok" data-testid="overall">All ${total} passed</p>`
              : `<p class="banner bad" data-testid="overall">${total - status.pass} of ${total} did not pass</p>`;
    const cards = STATUS_ORDER.map(
        (s) => `<div class="card ${s}" data-testid="count-${s}"><span class="n">${status[s]}</span><span class="l">${STATUS_TEXT[s]}</span></div>`,
    ).join("");
    const compliant = model.entries.filter((e) => e.status === "pass");
    const details = model.entries.map((e, i) => ({ e, i })).filter(({ e }) => e.findings.length > 0 || e.checks.length > 0);
    const heads = ["Verdict", "Target", "Kind", "Input", "Findings", "Severity", "Admits / identity"]
        .map((label, i) => (i === 2 || i === 6 ? `<th scope="col">${label}</th>` : `<th scope="col" aria-sort="none"><button type="button">${label}</button></th>`))
        .join("");
    const csp = `default-src 'none'; style-src ${sha256(CSS)}; script-src ${sha256(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;
    yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${h(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OIDC trust compliance report · ${h(model.tool.name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Pulumi OIDC trust compliance report</h1>
<p class="meta">Generated ${h(model.generatedAt)} by ${h(model.tool.name)} ${h(model.tool.version)} · ${model.counts.checked} checked resource(s), ${model.counts.verified} environment verification(s), ${model.counts.findings} finding(s)</p>
${banner}
</header>
<main>
<section id="summary"><h2>Summary</h2>
<div class="summary"><div class="cards">${cards}</div>
<figure id="chart">${barChart(model)}<figcaption>Bars: roles and environments by verdict; findings by severity.</figcaption></figure></div>
</section>
<section id="targets"><h2>Roles and environments</h2>
<table id="entries"><thead><tr>${heads}</tr></thead>
<tbody>`;
    yield* batched(
        model.entries.map((e, i) => ({ e, i })),
        ({ e, i }) => tableRow(e, i),
        "\n",
    );
    yield `</tbody></table>
</section>
<section id="evidence"><h2>Compliant, and what they admit</h2>`;
    if (compliant.length === 0) yield "<p>None.</p>";
    else {
        yield `<ul id="compliant">`;
        yield* batched(
            compliant,
            (e) => `<li><strong>${h(e.name)}</strong> <span class="urn">${h(whereText(e))}</span>${e.source === "verify" ? verifiedHtml(e) : admitsHtml(e)}</li>`,
            "",
        );
        yield "</ul>";
    }
    yield `</section>
${model.skipped.length === 0 ? "" : `<section id="skipped"><h2>Listed but not verified</h2><ul>${model.skipped.map((sk) => `<li><code>${h(sk.environment)}</code>: ${inline(sk.reason)}</li>`).join("")}</ul></section>`}
<section id="findings"><h2>Findings and verification details</h2>`;
    if (details.length === 0) yield "<p>None.</p>";
    else yield* batched(details, ({ e, i }) => entryHtml(e, i), "\n");
    yield `</section>
</main>
<footer>Self-contained report: no external resources. Rule metadata from the oidc-guard policy pack.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
