/**
 * Every rule has a page and every page has a rule: the pack's catalog (RULES, including the rules only `check`
 * reports) and the checks of `oidc-guard verify` (VERIFY_RULES) against the files under docs/rules/. The test is
 * generic: a rule added to either list needs docs/rules/<rule id>.md with the sections below, and its `url` must be
 * that page's stable repository URL.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";
import { DOCS_BASE_URL, REPOSITORY_URL, RULES, ruleDocsUrl, type RuleMeta } from "oidc-guard-policypack/analysis";
import { VERIFY_RULES } from "./verify/rules.js";

const root = join(__dirname, "..", "..");
const rulesDir = join(root, "docs", "rules");

/** The sections of a rule page, in this order (ESLint / cfn-lint style). */
const RULE_PAGE_SECTIONS = [
    "What it catches",
    "Failing example",
    "Passing example",
    "How to fix",
    "Configuration",
    "Why",
] as const;

const ALL_RULES: readonly RuleMeta[] = [...RULES, ...VERIFY_RULES];

function pages(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = join(dir, e.name);
        if (e.isDirectory()) return pages(p);
        return e.name.endsWith(".md") && e.name !== "README.md" ? [p] : [];
    });
}

/** `docs/rules/esc-verify/expect-denied.md` → `esc-verify/expect-denied`. */
function idOfPage(file: string): string {
    return relative(rulesDir, file).split(sep).join("/").replace(/\.md$/, "");
}

describe("rule documentation", () => {
    it("has a page for every rule, pack and verify alike", () => {
        const missing = ALL_RULES.filter((r) => !existsSync(join(rulesDir, `${r.id}.md`))).map((r) => r.id);
        assert.deepEqual(missing, [], `rules without a page under docs/rules/: ${missing.join(", ")}`);
    });

    it("has a rule for every page", () => {
        const ids = new Set(ALL_RULES.map((r) => r.id));
        const orphans = pages(rulesDir).map(idOfPage).filter((id) => !ids.has(id));
        assert.deepEqual(orphans, [], `pages under docs/rules/ without a rule in the catalog: ${orphans.join(", ")}`);
    });

    it("points each rule's url at its page, under the repository's URL", () => {
        for (const r of ALL_RULES) {
            assert.equal(r.url, ruleDocsUrl(r.id), r.id);
            assert.ok(r.url.startsWith(DOCS_BASE_URL), r.id);
        }
        assert.ok(DOCS_BASE_URL.startsWith(`${REPOSITORY_URL}/blob/main/`));
        const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { repository?: { url?: string } };
        const declared = (pkg.repository?.url ?? "").replace(/^git\+/, "").replace(/\.git$/, "");
        assert.equal(declared, REPOSITORY_URL, "package.json repository.url and REPOSITORY_URL disagree");
    });

    it("gives every page its title, the rule's severity and the six sections in order", () => {
        for (const r of ALL_RULES) {
            const file = join(rulesDir, `${r.id}.md`);
            if (!existsSync(file)) continue; // reported by the first test
            const text = readFileSync(file, "utf8");
            assert.ok(text.startsWith(`# ${r.id}\n`), `${r.id}: the page must start with '# ${r.id}'`);
            assert.match(text, new RegExp(`\\b${r.severity}\\b`), `${r.id}: the page does not state severity ${r.severity}`);
            const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
            const found = RULE_PAGE_SECTIONS.filter((s) => headings.includes(s));
            assert.deepEqual(found, [...RULE_PAGE_SECTIONS], `${r.id}: missing sections`);
            const order = RULE_PAGE_SECTIONS.map((s) => headings.indexOf(s));
            assert.deepEqual(order, [...order].sort((a, b) => a - b), `${r.id}: sections out of order`);
            for (const s of RULE_PAGE_SECTIONS) {
                const body = text.split(`## ${s}\n`)[1]?.split(/^## /m)[0] ?? "";
                assert.ok(body.trim().length > 0, `${r.id}: section '${s}' is empty`);
            }
        }
    });

    it("links every pack rule's page by absolute URL from the pack's own README (what a policy group shows)", () => {
        const readme = readFileSync(join(root, "policypack", "README.md"), "utf8");
        for (const r of RULES) assert.ok(readme.includes(r.url), `policypack/README.md does not link ${r.url}`);
        const pkg = JSON.parse(readFileSync(join(root, "policypack", "package.json"), "utf8")) as { files?: string[] };
        assert.ok(pkg.files?.includes("README.md"), "policypack/package.json files must ship README.md");
    });

    it("has no broken relative link or anchor in README.md, policypack/README.md and docs/", () => {
        const files = [join(root, "README.md"), join(root, "policypack", "README.md"), ...markdownUnder(join(root, "docs"))];
        const broken: string[] = [];
        for (const file of files) {
            const text = stripCode(readFileSync(file, "utf8"));
            for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                const link = m[1]!;
                if (/^[a-z]+:/.test(link)) continue;
                const [path = "", anchor] = link.split("#");
                const target = path === "" ? file : resolve(dirname(file), path);
                const shown = `${relative(root, file)} → ${link}`;
                if (!existsSync(target)) {
                    if (!PENDING_DOCS.has(relative(root, target).split(sep).join("/"))) broken.push(shown);
                    continue;
                }
                if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(anchor)) {
                    broken.push(`${shown} (no such heading)`);
                }
            }
        }
        assert.deepEqual(broken, []);
    });
});

/**
 * Pages other branches add (issues 9 and 10 and the real-CLI work): linked already, so a missing one is not an error
 * here. Remove an entry once its page is merged.
 */
const PENDING_DOCS: ReadonlySet<string> = new Set([
]);

function markdownUnder(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = join(dir, e.name);
        return e.isDirectory() ? markdownUnder(p) : e.name.endsWith(".md") ? [p] : [];
    });
}

/** Fenced code blocks hold examples, not headings. */
function stripFences(text: string): string {
    return text.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, "");
}

/** Fenced code blocks and inline code hold examples, not links. */
function stripCode(text: string): string {
    return stripFences(text).replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(text: string): Set<string> {
    const anchors = new Set<string>();
    for (const m of stripFences(text).matchAll(/^#{1,6} (.+)$/gm)) {
        anchors.add(
            m[1]!
                .trim()
                .toLowerCase()
                .replace(/[^\p{L}\p{N}\s_-]/gu, "")
                .replace(/ /g, "-"),
        );
    }
    return anchors;
}
