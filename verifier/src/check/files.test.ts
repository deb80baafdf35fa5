/**
 * files.ts: what a directory walk reads and what it leaves out, and that nothing it leaves out for a reason the user
 * should know goes unnamed: symbolic links (followed to files, not into directories), FIFOs, extensions in any case.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../testing/cli.js";
import type { CheckReport } from "../results.js";
import { expandPaths, type SkippedFile } from "./files.js";

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-files-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";

/** A trust policy pinned on `aud` alone: it fails. */
const AUD_ONLY = JSON.stringify({
    Statement: [
        {
            Effect: "Allow",
            Principal: { Federated: PROVIDER_ARN },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } },
        },
    ],
});
/** A trust policy pinned on `aud` and `sub`: it passes. */
const PINNED = JSON.stringify({
    Statement: [
        {
            Effect: "Allow",
            Principal: { Federated: PROVIDER_ARN },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
                StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/prod" },
            },
        },
    ],
});

function file(rel: string, text: string): string {
    const p = join(tmp, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, text);
    return p;
}

function check(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return runCli(["check", ...args], tmp);
}

describe("a directory walk and symbolic links", () => {
    it("follows a link to a file (also outside the tree), names a link to a directory it does not follow, never loops", async () => {
        const shared = file("elsewhere/shared-prod.json", AUD_ONLY);
        file("links/ok.json", PINNED);
        symlinkSync(shared, join(tmp, "links", "prod.json"));
        mkdirSync(join(tmp, "links", "sub"));
        symlinkSync("..", join(tmp, "links", "sub", "loop"));
        const skipped: SkippedFile[] = [];
        const found = expandPaths(["links"], tmp, [], skipped);
        assert.deepEqual(found.map((f) => [f.shown, f.explicit]), [["links/ok.json", false], ["links/prod.json", false]]);
        assert.deepEqual(skipped, [{ file: "links/sub/loop", reason: "a symbolic link to a directory, not followed: name the directory itself to check it" }]);

        // The failing role behind the link fails the run; the link to a directory is named on stderr.
        const r = await check(["links", "--org", "acme", "--format", "json"]);
        assert.equal(r.code, 1);
        const report = JSON.parse(r.out) as CheckReport;
        assert.deepEqual(report.results.map((x) => [x.target.file, x.verdict]), [["links/ok.json", "pass"], ["links/prod.json", "fail"]]);
        assert.match(r.err, /^oidc-guard check: skipped links\/sub\/loop: a symbolic link to a directory, not followed/m);
    });

    it("a directory whose only entry is a link to a file checks that file; one with only a link to a directory says so", async () => {
        const target = file("only-target/stack.json", AUD_ONLY);
        mkdirSync(join(tmp, "only-link"));
        symlinkSync(target, join(tmp, "only-link", "prod.json"));
        const r = await check(["only-link", "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.match(r.out, /only-link\/prod\.json +fail/);

        mkdirSync(join(tmp, "only-dir-link"));
        symlinkSync(join(tmp, "only-target"), join(tmp, "only-dir-link", "stacks"));
        const e = await check(["only-dir-link"]);
        assert.equal(e.code, 2);
        assert.match(
            e.err,
            /only-dir-link: no \*\.json, \*\.yaml, \*\.yml or \*\.template file to read in this directory; left out: only-dir-link\/stacks \(a symbolic link to a directory, not followed/,
        );
        // Named on the command line, the link to a directory is walked as the directory.
        const named = await check([join("only-dir-link", "stacks"), "--org", "acme"]);
        assert.equal(named.code, 1);
        assert.match(named.out, /only-dir-link\/stacks\/stack\.json +fail/);
    });

    it("reads a broken link of a wanted name, which fails (exit 2) naming it; names a FIFO it does not read", async () => {
        file("odd/ok.json", PINNED);
        symlinkSync(join(tmp, "odd", "gone.json"), join(tmp, "odd", "broken.json"));
        symlinkSync(join(tmp, "odd", "README"), join(tmp, "odd", "broken-readme"));
        if (spawnSync("mkfifo", [join(tmp, "odd", "pipe.json")]).status !== 0) assert.fail("mkfifo is needed for this test");
        const r = await check(["odd", "--org", "acme"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /odd\/broken\.json: cannot read: no such file or directory/);
        assert.match(r.err, /skipped odd\/pipe\.json: a FIFO, not a regular file: name it on the command line to read it/);
        // A broken link whose name is not one a walk reads is left out quietly, as any such file is.
        assert.doesNotMatch(r.err, /broken-readme/);
    });
});

describe("a directory walk and file names", () => {
    it("matches extensions in any case: UPPER.JSON is read, X.EXPECTED.JSON is not", async () => {
        file("case/UPPER.JSON", AUD_ONLY);
        file("case/lower.json", PINNED);
        file("case/Role.EXPECTED.JSON", "{ not even json");
        file("case/stack.json.bak", "{ not even json");
        const found = expandPaths(["case"], tmp);
        assert.deepEqual(found.map((f) => f.shown), ["case/UPPER.JSON", "case/lower.json"]);
        const r = await check(["case", "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.match(r.out, /case\/UPPER\.JSON +fail/);
    });
});
