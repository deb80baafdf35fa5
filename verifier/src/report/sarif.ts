/**
 * SARIF 2.1.0 (OASIS), for code-scanning dashboards such as GitHub's. One run; the driver lists every rule with
 * help text and URL; each finding is a result with a physical location (GitHub rejects a whole upload when any
 * result lacks one): the checked file and the line of the statement or condition key, plus the resource URN as a
 * logical location for stack inputs, or the ESC environment for verify results.
 */
import { escapeJsonOutput } from "../escape.js";
import { ChunkedArray, jsonChunks, textChunks } from "../chunks.js";
import { createHash } from "node:crypto";
import { RULES, type RuleMeta, type Severity } from "oidc-guard-policypack/analysis";
import { VERIFY_RULES } from "../verify/rules.js";
import { mdInline } from "./markdown.js";
import { formatToken, type ReportEntry, type ReportFinding, type ReportModel } from "./model.js";

export const SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

type SarifLevel = "error" | "warning" | "note";

const LEVEL: Record<Severity, SarifLevel> = { critical: "error", high: "error", medium: "warning", low: "note" };
/** GitHub reads `security-severity` (0.1–10) to rank alerts: ≥9 critical, ≥7 high, ≥4 medium, else low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };

function ruleName(id: string): string {
    return id
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("");
}

/** The rules whose texts are this tool's own: their help Markdown is written as the catalog wrote it. */
const CATALOG: ReadonlyMap<string, RuleMeta> = new Map([...RULES, ...VERIFY_RULES].map((r) => [r.id, r]));

/**
 * A rule's help in Markdown (code scanning renders it). A rule of the catalog gets its own text, Markdown as written
 * there. Any other (a rule id from a result file of another version, with the finding's own remediation; a verify
 * check the catalog does not know) came, in part, from input: its description and remediation are escaped as the
 * Markdown report escapes them, their `code` spans kept as code.
 */
function helpMarkdown(rule: RuleMeta): string {
    const own = CATALOG.get(rule.id);
    const [description, remediation, url] = own
        ? [own.description, own.remediation, own.url]
        : [mdInline(rule.description), mdInline(rule.remediation), rule.url];
    return `${description}\n\n**Fix:** ${remediation}\n\nSee [the documentation](${url}).`;
}

function descriptor(rule: RuleMeta): Record<string, unknown> {
    return {
        id: rule.id,
        name: ruleName(rule.id),
        shortDescription: { text: rule.title },
        fullDescription: { text: rule.description },
        helpUri: rule.url,
        help: {
            text: `${rule.description}\n\nFix: ${rule.remediation}\n\nSee ${rule.url}`,
            markdown: helpMarkdown(rule),
        },
        defaultConfiguration: { level: LEVEL[rule.severity] },
        properties: {
            tags: ["security", ...rule.tags.filter((t) => t !== "security")],
            precision: "very-high",
            "security-severity": SECURITY_SEVERITY[rule.severity],
            policy: rule.policy,
        },
    };
}

/** RFC 3986's `unreserved` and `sub-delims`, and a `pct-encoded` triplet: what a host name (`reg-name`) is made of. */
const REG_NAME_CHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})";
/**
 * A URI that is a scheme and an authority and nothing else (`aws://123456789012`, what `scan aws` names its
 * targets), in RFC 3986's grammar: `scheme "://" [ userinfo "@" ] reg-name [ ":" port ]`. Every character is one a URI
 * may hold where it stands, so the URI is kept as it is (but for {@link SCRIPT_SCHEME}); anything else (`x://a<b>`,
 * `x://a:b`, a bare `%`) is a path.
 */
const AUTHORITY_URI = new RegExp(`^[A-Za-z][A-Za-z0-9+.-]*://(?:(?:${REG_NAME_CHAR}|:)*@)?${REG_NAME_CHAR}+(?::[0-9]*)?$`);
/**
 * Schemes a viewer that makes a link of the URI would run rather than open (`javascript://%0aalert(1)` is a valid
 * URI): such a target is written as a path, like any name that is not a URI.
 */
const SCRIPT_SCHEME = /^(?:javascript|vbscript|data):/i;
/** A surrogate that is not half of a pair: no character, and `encodeURIComponent` throws on it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A relative path as a URI reference (each segment percent-encoded); absolute paths become `file://` URIs; a target
 * that already is a URI ({@link AUTHORITY_URI}) is kept. A lone surrogate in a name (input need not be well-formed
 * UTF-16) is written as U+FFFD, as the JUnit report writes it.
 */
export function fileUri(path: string): { uri: string; uriBaseId?: string } {
    if (AUTHORITY_URI.test(path) && !SCRIPT_SCHEME.test(path)) return { uri: path };
    const posix = path.replace(LONE_SURROGATE, "\ufffd").replace(/\\/g, "/");
    const encoded = posix
        .split("/")
        .map((s) => encodeURIComponent(s))
        .join("/");
    if (/^[A-Za-z]:\//.test(posix)) return { uri: `file:///${encoded.replace("%3A", ":")}` };
    if (posix.startsWith("/")) return { uri: `file://${encoded}` };
    return { uri: encoded, uriBaseId: "%SRCROOT%" };
}

function location(entry: ReportEntry, finding: ReportFinding): Record<string, unknown> {
    if (entry.source === "verify") {
        const env = entry.environment ?? entry.name;
        // No file holds an ESC environment; anchor on the result file when known, else on the environment's path.
        return {
            physicalLocation: {
                artifactLocation: fileUri(entry.origin ?? `pulumi-esc/${env}`),
                region: { startLine: 1 },
            },
            logicalLocations: [{ name: env, fullyQualifiedName: env, kind: "resource" }],
        };
    }
    const pos = finding.position ?? { line: 1, column: 1 };
    const loc: Record<string, unknown> = {
        physicalLocation: {
            artifactLocation: fileUri(entry.file ?? entry.suite),
            region: { startLine: pos.line, startColumn: pos.column },
        },
    };
    if (entry.urn) {
        loc.logicalLocations = [{ name: entry.name, fullyQualifiedName: entry.urn, kind: "resource" }];
    }
    return loc;
}

function messageText(entry: ReportEntry, f: ReportFinding): string {
    const parts = [entry.urn ? `${entry.name}: ${f.message}` : f.message];
    if (f.path) parts.push(`At ${f.path}.`);
    if (f.counterexample) {
        parts.push(`A token that gets in: ${f.tokenDescription ? `${f.tokenDescription}, ` : ""}${formatToken(f.counterexample)}.`);
    }
    const blast = f.blastRadius ?? [];
    if (blast.length > 1) parts.push(`It admits ${blast.length} classes of unintended tokens: ${blast.map((b) => b.class).join(", ")}.`);
    parts.push(`Fix: ${f.remediation}`);
    return parts.join(" ");
}

function fingerprint(entry: ReportEntry, f: ReportFinding): string {
    return createHash("sha256")
        .update([f.ruleId, entry.source, entry.file ?? "", entry.urn ?? "", entry.environment ?? "", f.path].join("\u0000"))
        .digest("hex");
}

/**
 * GitHub code scanning rejects a SARIF run with more results than this, and of a run it accepts shows only the 5,000
 * most severe ("SARIF results exceed limit", docs.github.com code-security/code-scanning/troubleshooting-sarif-uploads).
 */
export const CODE_SCANNING_MAX_RESULTS = 25_000;

/** Renders the model as a SARIF 2.1.0 log (pretty-printed JSON). */
export function renderSarif(model: ReportModel): string {
    return [...renderSarifChunks(model)].join("");
}

/**
 * The SARIF log in chunks (chunks.ts), one result per finding: the results and the compliant targets are made and written a few at a
 * time, so a check of 100,000 roles (a 340 MB log) never builds its results at once or one string of them.
 */
export function renderSarifChunks(model: ReportModel): Generator<string> {
    const ruleIndex = new Map(model.rules.map((r, i) => [r.id, i]));
    const results = new ChunkedArray(model.entries, (entry) =>
        entry.findings.map((f) => {
            const result: Record<string, unknown> = {
                ruleId: f.rule.id,
                ruleIndex: ruleIndex.get(f.rule.id) ?? 0,
                level: LEVEL[f.severity],
                message: { text: messageText(entry, f) },
                locations: [location(entry, f)],
                partialFingerprints: { "oidcGuardFinding/v1": fingerprint(entry, f) },
                properties: {
                    severity: f.severity,
                    verdict: entry.verdict,
                    ...(f.path ? { path: f.path } : {}),
                    ...(f.counterexample ? { counterexample: f.counterexample } : {}),
                    ...(f.tokenKind ? { tokenKind: f.tokenKind } : {}),
                    ...(f.tokenDescription ? { tokenDescription: f.tokenDescription } : {}),
                    ...(f.blastRadius?.length ? { blastRadius: f.blastRadius } : {}),
                    ...(f.readings?.length ? { readings: f.readings } : {}),
                    ...(f.advisory ? { advisory: true } : {}),
                    ...(f.statement ? { statement: f.statement } : {}),
                },
            };
            return result;
        }),
    );
    const compliant = new ChunkedArray(model.entries, (e) =>
        e.status !== "pass"
            ? []
            : [
                  {
                      target: e.urn ?? e.environment ?? e.file ?? e.name,
                      ...(e.source === "check"
                          ? { admits: e.admitted.map(({ issuer, audiences, subjects }) => ({ issuer, audiences, subjects })) }
                          : { verified: e.environment }),
                  },
              ],
    );
    const log = {
        $schema: SARIF_SCHEMA_URI,
        version: "2.1.0",
        runs: [
            {
                tool: {
                    driver: {
                        name: model.tool.name,
                        version: model.tool.version,
                        ...(/^\d+\.\d+\.\d+/.test(model.tool.version) ? { semanticVersion: model.tool.version } : {}),
                        rules: model.rules.map(descriptor),
                    },
                },
                invocations: [{ executionSuccessful: true, endTimeUtc: model.generatedAt }],
                columnKind: "utf16CodeUnits",
                results,
                properties: {
                    counts: model.counts,
                    // Positive evidence: what each compliant role admits (SARIF results carry only problems).
                    compliant,
                },
            },
        ],
    };
    return textChunks(jsonChunks(log, [results, compliant], escapeJsonOutput));
}
