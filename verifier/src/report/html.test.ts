import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import type { CheckReport } from "../results.js";
import { htmlEscape, renderHtml } from "./html.js";
import { buildModel } from "./model.js";
import { ROOT, sampleInput, verifyBatch } from "./testdata/load.js";

const html = renderHtml(buildModel(sampleInput()));
const ARTIFACTS = join(ROOT, "test-artifacts");
/** The same browser scripts/ensure-chromium.sh installs (CHROMIUM_PATH overrides both). */
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Under CI a missing browser fails these tests instead of skipping them (CI must not pass without what it tests). */
const STRICT = process.env.CI === "true";
// DOMAIN.md §6; playwright-core gives every launch a new empty --user-data-dir itself.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("HTML (as text)", () => {
    it("is self-contained: no attribute, stylesheet or script that could fetch anything", () => {
        assert.doesNotMatch(html, /\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?(?!#)[^"'\s>]*:/i);
        assert.doesNotMatch(html, /<(?:link|iframe|object|embed|img|base)\b/i);
        assert.doesNotMatch(html, /url\(|@import/i);
        assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
    });

    it("allows exactly its own inline style and script by hash", () => {
        const hash = (s: string): string => `sha256-${createHash("sha256").update(s, "utf8").digest("base64")}`;
        const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
        const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
        assert.ok(html.includes(`style-src &#39;${hash(style)}&#39;`));
        assert.ok(html.includes(`script-src &#39;${hash(script)}&#39;`));
        assert.equal((html.match(/<script>/g) ?? []).length, 1);
    });

    it("lists verified environments with their identity, and what a batch did not verify", () => {
        const out = renderHtml(buildModel({ verifications: [verifyBatch()] }));
        assert.match(out, /<li><strong>acme\/networking\/staging<\/strong> <span class="urn">acme\/networking\/staging<\/span> verified; expected role <code>arn:aws:iam::123456789012:role\/esc-networking-staging-4e1a7b2 \(from definition\)<\/code>/);
        assert.match(out, /<section id="skipped"><h2>Listed but not verified<\/h2><ul><li><code>acme\/docs\/readme<\/code>: its definition opens no aws-login<\/li>/);
        assert.match(out, /<dt>Error<\/dt><dd><code>rate-limited: Pulumi Cloud answered 429/);
    });

    it("escapes every value", () => {
        const evil = `<img src=x onerror="alert(1)">'&`;
        const report: CheckReport = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            results: [
                {
                    target: { file: `${evil}.json`, resource: { urn: `urn:${evil}`, type: "aws:iam/role:Role", name: evil } },
                    verdict: "fail",
                    findings: [{ ruleId: "oidc-trust-aud-pinned", severity: "critical", message: `</script><script>alert(2)</script>`, path: evil, location: {}, remediation: `fix \`${evil}\``, counterexample: { issuer: evil, aud: evil, sub: evil } }],
                    notes: [evil],
                },
            ],
            summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
        };
        const out = renderHtml(buildModel({ checks: [report] }));
        assert.ok(!out.includes("<img"), "no raw tag from a value");
        assert.ok(!out.includes("alert(2)</script>"));
        assert.equal((out.match(/<script>/g) ?? []).length, 1);
        assert.ok(out.includes(htmlEscape(evil)));
    });
});

/**
 * Launches Chromium at CHROMIUM_PATH (default /usr/bin/chromium); a reason string when that is impossible. Installing
 * it is the job of scripts/ensure-chromium.sh (run by .ci/run), never of a unit test.
 */
async function launch(): Promise<Browser | string> {
    try {
        accessSync(CHROMIUM, constants.X_OK);
    } catch {
        return `Chromium is not installed at ${CHROMIUM}: run 'bash scripts/ensure-chromium.sh' (or set CHROMIUM_PATH)`;
    }
    try {
        return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    } catch (e) {
        return `Chromium at ${CHROMIUM} could not be launched: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    }
}

describe("HTML in headless Chromium", () => {
    let browser: Browser | undefined;
    let page: Page;
    let skip = "";
    const requests: string[] = [];
    const problems: string[] = [];
    const file = join(ARTIFACTS, "report.html");

    before(async () => {
        const b = await launch();
        if (typeof b === "string") {
            if (STRICT) throw new Error(`CI=true and the browser tests cannot run: ${b}`);
            skip = b;
            return;
        }
        browser = b;
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(file, html);
        page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.on("request", (r) => requests.push(r.url()));
        page.on("console", (m) => {
            if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
        });
        page.on("pageerror", (e) => problems.push(e.message));
        await page.goto(pathToFileURL(file).href);
    });

    after(async () => {
        await browser?.close();
    });

    it("shows the summary numbers a person sees, and makes no request but the page itself", async (t) => {
        if (skip) return t.skip(skip);
        const count = (s: string): Promise<string> => page.locator(`[data-testid="count-${s}"] .n`).innerText();
        assert.deepEqual(await Promise.all(["pass", "fail", "unknown", "error"].map(count)), ["4", "3", "1", "0"]);
        assert.equal(await page.getByTestId("overall").innerText(), "4 of 8 did not pass");
        assert.ok(await page.locator("#chart svg").isVisible());
        const failBar = await page.locator('#chart g[data-group="verdict"][data-label="fail"] rect').boundingBox();
        const passBar = await page.locator('#chart g[data-group="verdict"][data-label="pass"] rect').boundingBox();
        const highBar = await page.locator('#chart g[data-group="severity"][data-label="high"] rect').boundingBox();
        assert.ok(failBar && passBar && highBar);
        assert.ok(passBar.width > failBar.width && failBar.width > 0, "bar lengths follow the counts (4 pass > 3 fail)");
        assert.equal(Math.round(highBar.width), Math.round(failBar.width), "3 high findings, 3 failures: same length");
        assert.deepEqual(requests, [pathToFileURL(file).href]);
        assert.deepEqual(problems, [], "no CSP violation or script error");
    });

    it("shows one table row per role or environment, and sorts when a header is clicked", async (t) => {
        if (skip) return t.skip(skip);
        const names = (): Promise<string[]> => page.locator("#entries tbody tr td:nth-child(2) .name").allInnerTexts();
        const initial = await names();
        assert.equal(initial.length, 8);
        assert.deepEqual(await page.locator("#entries tbody tr td:nth-child(1)").allInnerTexts(), ["fail", "fail", "fail", "unknown", "pass", "pass", "pass", "pass"]);
        assert.ok(initial.includes("deployments-role") && initial.includes("acme/networking/prod"));
        const deployRow = page.locator("#entries tbody tr", { hasText: "deployments-role" });
        assert.match(await deployRow.innerText(), /role\s+fixtures\/reports\/sources\/stack-export\.json:\d+\s+1\s+HIGH/);
        const pinnedRow = page.locator("#entries tbody tr", { hasText: "trust-policy-pinned.json" });
        assert.match(await pinnedRow.innerText(), /aud aws:acme; sub pulumi:environments:org:acme:env:payments\/prod, pulumi:environments:org:acme:env:payments\/staging/);

        await page.getByRole("button", { name: "Target" }).click();
        const ascending = await names();
        assert.notDeepEqual(ascending, initial);
        assert.deepEqual(ascending, [...initial].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
        assert.equal(await page.locator("#entries thead th", { hasText: "Target" }).getAttribute("aria-sort"), "ascending");
        await page.getByRole("button", { name: "Target" }).click();
        assert.deepEqual(await names(), [...ascending].reverse());

        await page.getByRole("button", { name: "Verdict" }).click();
        assert.deepEqual(await page.locator("#entries tbody tr td:nth-child(1)").allInnerTexts(), ["fail", "fail", "fail", "unknown", "pass", "pass", "pass", "pass"]);
    });

    it("shows per finding the statement, the token that gets in and the fix", async (t) => {
        if (skip) return t.skip(skip);
        await page.locator("#entries a", { hasText: "trust-policy-sub-wildcard.json" }).click();
        const finding = page.locator('article.entry:has-text("trust-policy-sub-wildcard.json") .finding').first();
        assert.ok(await finding.isVisible());
        const text = await finding.innerText();
        assert.match(text, /"Sid": "AnyAcmeEnvironment"/);
        assert.match(text, /"sub": "pulumi:environments:org:acme:env:sandbox\/scratch"/);
        assert.match(text, /Fix\s+Add "StringEquals"/);
        assert.match(text, /trust-policy-sub-wildcard\.json:23/);
        assert.match(await page.locator("#compliant").innerText(), /esc-networking-prod[\s\S]*pulumi:environments:org:acme:env:networking\/prod/);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.evaluate("window.scrollTo(0, 0)");
        await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
        assert.ok(statSync(join(ARTIFACTS, "report.png")).size > 10_000);
    });

    it("stays readable when printed", async (t) => {
        if (skip) return t.skip(skip);
        await page.emulateMedia({ media: "print" });
        const indicator = await page.evaluate<string>(`getComputedStyle(document.querySelector("#entries thead th button"), "::after").content`);
        assert.ok(indicator === "none" || indicator === '""', `sort arrows hidden in print, got ${indicator}`);
        assert.ok(await page.locator("article.entry .finding").first().isVisible());
        await page.pdf({ path: join(ARTIFACTS, "report.pdf"), format: "A4" });
        assert.ok(statSync(join(ARTIFACTS, "report.pdf")).size > 10_000);
        await page.emulateMedia({ media: "screen" });
    });
});
