/**
 * The output a rule page quotes is what `oidc-guard check` prints today. Each page of docs/rules whose "Failing
 * example" names its input (a file under fixtures/, or a whole JSON document in a ```json block) and quotes the
 * check's output for its rule (a plain ``` block naming the rule) is run: `check <input> --org acme`, in-process. The
 * quoted block, its lines joined and its `...` elisions read as gaps, must appear in the output (whitespace
 * collapsed, a result's header line matched by its verdict and file name), and the exit code must be the one the
 * page gives.
 *
 * So are the `check` and `report` examples README.md and docs/*.md show as a console session (a ```console block whose
 * first line is `$ npx oidc-guard check|report …`): run with the same arguments in a scratch folder that sees the
 * repository's fixtures (what they write lands there), the block's lines must be what the command prints, a line
 * `… (<what is left out>)` standing for a gap. And the `verify` sessions of docs/verify.md and the esc-verify rule
 * pages are run against the ESC and STS stand-ins (testing/world.ts), whose environments and roles they name: what
 * differs run to run (the time taken, an access key id's last characters, STS's request id) is read as the same.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it } from "node:test";
import { run } from "./cli.js";
import { captureIO, startWorld } from "./testing/world.js";

const ROOT = join(__dirname, "..", "..");
const RULES_DIR = join(ROOT, "docs", "rules");
const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-rule-docs-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Example {
    page: string;
    rule: string;
    /** The input, relative to the repository or absolute (written from the page). */
    input: string;
    block: string;
    exit: number | null;
}

function section(text: string, title: string): string {
    const start = text.indexOf(`## ${title}\n`);
    if (start < 0) return "";
    const rest = text.slice(start + title.length + 4);
    const end = rest.search(/^## /m);
    return end < 0 ? rest : rest.slice(0, end);
}

function blocks(text: string): { lang: string; body: string }[] {
    return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** The examples of every page that names its input and quotes the rule's output. */
function examples(): Example[] {
    const out: Example[] = [];
    for (const f of readdirSync(RULES_DIR).filter((x) => x.endsWith(".md") && x !== "README.md").sort()) {
        const rule = basename(f, ".md");
        const failing = section(readFileSync(join(RULES_DIR, f), "utf8"), "Failing example");
        const quoted = blocks(failing).find((b) => b.lang === "" && b.body.includes(rule));
        if (!quoted) continue;
        let input = /`(fixtures\/[^`\s]+\.json)`/.exec(failing)?.[1];
        if (input === undefined) {
            const json = blocks(failing).find((b) => b.lang === "json");
            if (!json) continue;
            let doc: unknown;
            try {
                doc = JSON.parse(json.body);
            } catch {
                continue; // an excerpt, not a whole document
            }
            const name = /`oidc-guard check ([\w.-]+\.json)/.exec(failing)?.[1] ?? `${rule}.json`;
            input = join(tmp, name);
            writeFileSync(input, JSON.stringify(doc, null, 2));
        }
        const exit = /\(exit (\d)\)/.exec(failing)?.[1];
        out.push({ page: f, rule, input, block: quoted.body, exit: exit === undefined ? null : Number(exit) });
    }
    return out;
}

const collapse = (s: string): string => s.replace(/\s+/g, " ").trim();

/**
 * The parts a quote must show, in its own words: its lines joined and `normalize`d, split at each gap (`...` within a
 * line where `dots` is set, and a line that is only `… (<what is left out>)`).
 */
function quotedParts(lines: readonly string[], normalize: (s: string) => string, dots = false): string[] {
    const gap = "\u0000";
    const joined = normalize(lines.map((l) => (/^\s*… \(.*\)$/.test(l) ? gap : l)).join("\n"));
    return (dots ? joined.replaceAll("...", gap) : joined)
        .split(gap)
        .map((p) => p.trim())
        .filter((p) => p !== "");
}

async function check(input: string): Promise<{ code: number; out: string }> {
    const io = captureIO({}, { cwd: ROOT });
    const code = await run(["check", input, "--org", "acme"], io);
    return { code, out: io.out.join("") };
}

describe("the check output each rule page quotes", () => {
    const all = examples();

    it("is quoted, with its input, by the pages of the rules check reports on files", () => {
        assert.deepEqual(
            all.map((e) => e.rule),
            ["oidc-provider-config", "oidc-trust-aud-pinned", "oidc-trust-document-valid", "oidc-trust-sub-pinned", "oidc-trust-unknown-at-preview", "oidc-trust-unreadable", "oidc-trust-unusable"],
        );
    });

    for (const e of all) {
        it(`${e.page}: what check prints`, async () => {
            const { code, out } = await check(e.input);
            if (e.exit !== null) assert.equal(code, e.exit, `exit code; output:\n${out}`);
            const actual = collapse(out);
            const lines = e.block.split("\n");
            const header = /^(PASS|FAIL|ERROR|UNKNOWN) (\S+)$/.exec(lines[0]!.trim());
            if (header) {
                assert.match(out, new RegExp(`^${header[1]} \\S*${basename(header[2]!).replace(/[.]/g, "\\.")}`, "m"), `the result's header: ${lines[0]}`);
                lines.shift();
            }
            for (const part of quotedParts(lines, collapse, true)) {
                assert.ok(actual.includes(part), `${e.page} quotes what check no longer prints:\n  ${part}\ncheck prints:\n${out}`);
            }
        });
    }
});

interface Session {
    file: string;
    args: string[];
    lines: string[];
}

/** The console sessions of `check` and `report` in README.md and docs/*.md. */
function sessions(): Session[] {
    const files = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f))];
    const out: Session[] = [];
    for (const file of files) {
        for (const b of blocks(readFileSync(file, "utf8")).filter((x) => x.lang === "console")) {
            const [first, ...lines] = b.body.replace(/\n$/, "").split("\n");
            const command = /^\$ npx oidc-guard ((?:check|report) .*)$/.exec(first ?? "");
            if (command) out.push({ file: basename(file), args: command[1]!.split(/\s+/), lines });
        }
    }
    return out;
}

describe("the check and report sessions README.md and docs/ show", () => {
    const all = sessions();
    const scratch = join(tmp, "session");
    mkdirSync(scratch);
    symlinkSync(join(ROOT, "fixtures"), join(scratch, "fixtures"));

    it("are found", () => {
        assert.ok(all.length >= 3, JSON.stringify(all.map((s) => s.args.join(" "))));
    });

    for (const s of all) {
        it(`${s.file}: oidc-guard ${s.args.join(" ")}`, async () => {
            const io = captureIO({}, { cwd: scratch });
            await run(s.args, io);
            const actual = collapse(`${io.out.join("")}\n${io.err.join("")}`);
            for (const part of quotedParts(s.lines, collapse)) assert.ok(actual.includes(part), `${s.file} shows what the command no longer prints:\n  ${part}\nit prints:\n${io.out.join("")}${io.err.join("")}`);
        });
    }
});

/** What differs from run to run in verify's text output, written the same way in the page and in the output. */
function steady(text: string): string {
    return collapse(text)
        .replace(/\((?:\d+(?:\.\d+)?) s\)/g, "(… s)")
        .replace(/(ASIA|AKIA)…[A-Z0-9]{4}/g, "$1…")
        .replace(/request id: (?:[0-9a-f-]{36}|…)/g, "request id: …");
}

/** The `verify` sessions of docs/verify.md and the esc-verify rule pages: the arguments and the lines shown. */
function verifySessions(): Session[] {
    const dir = join(RULES_DIR, "esc-verify");
    const files = [join(ROOT, "docs", "verify.md"), ...readdirSync(dir).filter((f) => f.endsWith(".md")).map((f) => join(dir, f))];
    const out: Session[] = [];
    for (const file of files) {
        for (const b of blocks(readFileSync(file, "utf8")).filter((x) => x.lang === "text")) {
            const lines = b.body.replace(/\n$/, "").split("\n");
            const at = lines.findIndex((l) => l.startsWith("$ oidc-guard verify "));
            if (at >= 0) out.push({ file: basename(file), args: lines[at]!.slice("$ oidc-guard ".length).split(/\s+/), lines: lines.slice(at + 1) });
        }
    }
    return out;
}

describe("the verify sessions docs/ show", () => {
    const all = verifySessions();

    it("are found: a passing one, and a failing one on each page of a check that can fail against the stand-ins", () => {
        assert.deepEqual(all.map((s) => s.file).sort(), ["credentials-agree.md", "credentials-present.md", "credentials-temporary.md", "environment-opens.md", "expect-denied.md", "expected-role.md", "verify.md"]);
    });

    for (const s of all) {
        it(`${s.file}: oidc-guard ${s.args.join(" ")}, against the stand-ins`, async () => {
            const world = await startWorld();
            try {
                const io = captureIO(world.env, { cwd: tmp });
                const code = await run(s.args, io);
                const out = io.out.join("");
                assert.ok(code === 0 || code === 1, `exit ${code}: ${out}${io.err.join("")}`);
                assert.match(s.lines[0] ?? "", code === 0 ? /: VERIFIED / : /: FAILED /, "the page shows the verdict verify gives");
                for (const part of quotedParts(s.lines, steady)) assert.ok(steady(out).includes(part), `${s.file} shows what verify no longer prints:\n  ${part}\nit prints:\n${out}`);
            } finally {
                await world.close();
            }
        });
    }
});
