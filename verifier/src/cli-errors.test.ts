/**
 * The dispatcher's error handling, in-process: usage errors read the same in `check`, `verify` and `report`, and an
 * unexpected exception is an internal error (exit 70) with a one-line message and no stack trace unless
 * OIDC_GUARD_DEBUG=1.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { run } from "./cli.js";
import { EXIT, type CliIO } from "./io.js";
import { textOf, type OutputChunk } from "./chunks.js";

function io(env: NodeJS.ProcessEnv = {}, stdoutWrite?: () => never): CliIO & { out: () => string; err: () => string } {
    let out = "";
    let err = "";
    return {
        stdout: { write: stdoutWrite ?? ((c: OutputChunk) => (out += textOf(c))) },
        stderr: { write: (c: string) => (err += c) },
        env,
        cwd: process.cwd(),
        out: () => out,
        err: () => err,
    };
}

const COMMANDS = ["check", "verify", "report"] as const;

describe("oidc-guard usage errors", () => {
    it("read the same in every command: unknown option, missing value, empty value, bad --format", async () => {
        for (const command of COMMANDS) {
            const hint = `\nhint: run 'oidc-guard ${command} --help' for the options\n`;
            const cases: [string[], string][] = [
                [["x.json", "--colour"], "unknown option '--colour'"],
                [["x.json", "--format"], "option '--format <value>' needs a value"],
                [["x.json", "--output", ""], "option '--output <value>' needs a value"],
                [["x.json", "--sarif", "--format", "json"], "option '--sarif <value>' needs a value"],
                [["x.json", "--format", "xml"], "unknown --format 'xml': expected one of "],
            ];
            for (const [argv, message] of cases) {
                const cli = io();
                assert.equal(await run([command, ...argv], cli), EXIT.usage, `${command} ${argv.join(" ")}`);
                assert.ok(cli.err().startsWith(`oidc-guard ${command}: ${message}`), `${command}: ${cli.err()}`);
                assert.ok(cli.err().endsWith(hint), `${command}: ${cli.err()}`);
                assert.equal(cli.out(), "");
            }
        }
    });

    it("an unknown command is a usage error (2), also when it names a property every object has", async () => {
        for (const name of ["lint", "Check", "constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
            const cli = io();
            assert.equal(await run([name, "x.json"], cli), EXIT.usage, name);
            assert.ok(cli.err().startsWith(`oidc-guard: unknown command '${name}'\n`), `${name}: ${cli.err()}`);
            assert.match(cli.err(), /\nCommands:\n {2}check /);
            assert.equal(cli.out(), "");
        }
    });

    it("every --help names the command's documentation page and the internal-error exit code", async () => {
        for (const command of COMMANDS) {
            const cli = io();
            assert.equal(await run([command, "--help"], cli), EXIT.ok);
            assert.match(cli.out(), new RegExp(`Documentation: https://\\S+/blob/main/docs/${command}\\.md\\n`));
            assert.match(cli.out(), /\n {2}70 internal error/);
        }
        const top = io();
        assert.equal(await run(["--help"], top), EXIT.ok);
        assert.match(top.out(), /70 {2}internal error/);
        assert.match(top.out(), /Documentation: https:\/\/\S+\/README\.md/);
    });
});

describe("oidc-guard internal errors", () => {
    const boom = (): never => {
        throw new TypeError("cannot read properties of undefined (reading 'x')\n    at secretFrame (x.js:1:1)");
    };

    it("exit 70, distinct from usage (2), with one line and no stack trace", async () => {
        for (const command of COMMANDS) {
            const cli = io({}, boom);
            const code = await run([command, "--help"], cli);
            assert.equal(code, EXIT.internal);
            assert.notEqual(code, EXIT.usage);
            assert.equal(
                cli.err(),
                `oidc-guard ${command}: internal error: cannot read properties of undefined (reading 'x')\n` +
                    "hint: this is a bug in oidc-guard; run again with OIDC_GUARD_DEBUG=1 for the stack trace and report it\n",
            );
        }
    });

    it("prints the stack only with OIDC_GUARD_DEBUG=1", async () => {
        const cli = io({ OIDC_GUARD_DEBUG: "1" }, boom);
        assert.equal(await run(["check", "--help"], cli), EXIT.internal);
        assert.match(cli.err(), /\n {4}at /);
    });
});
