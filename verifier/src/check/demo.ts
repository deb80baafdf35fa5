#!/usr/bin/env node
/**
 * `npm start`: runs `oidc-guard check` over the bundled fixtures and explains the outcome. The fixtures hold
 * unpinned roles on purpose, so `check` exits 1 there; this demo then ends with status 0, because findings are
 * the expected result of the demo, not a failure of it. Status 2 (an input that cannot be read or parsed, or a
 * usage error) is passed on: that means the installation or the fixtures are broken.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { run } from "../cli.js";
import { EXIT, processIO, type CliIO } from "../io.js";

/** The fixture directories the demo checks, relative to the repository root. */
export const DEMO_DIRS = ["fixtures/trust-policies", "fixtures/stacks", "fixtures/preview", "fixtures/aws"];
/** The organization the fixtures use. */
export const DEMO_ORG = "acme";

/** Runs the demo with `root` as working directory; returns the exit status for the process. */
export async function demo(io: CliIO, root: string): Promise<number> {
    const dirs = DEMO_DIRS.filter((d) => existsSync(join(root, d)));
    const argv = ["check", ...dirs, "--org", DEMO_ORG];
    io.stdout.write(`$ oidc-guard ${argv.join(" ")}\n\n`);
    const code = await run(argv, { ...io, cwd: root });
    const say = (s: string): void => {
        io.stdout.write(`\n${s}\n`);
    };
    switch (code) {
        case EXIT.ok:
            say("oidc-guard check exited 0: every target passes.");
            return EXIT.ok;
        case EXIT.failed:
            say(
                "oidc-guard check exited 1: some roles fail or cannot be decided (see the table above).\n" +
                    "That is what this demo is meant to show: the bundled fixtures include unpinned roles, malformed\n" +
                    "trust policies, an encrypted trust policy and a preview whose trust policy is unknown.\n" +
                    "In CI, exit 1 fails the job.\n" +
                    "Run it yourself: node verifier/bin/cli.js check <files or directories> --org <your org>\n" +
                    "(demo finished: exit status 0)",
            );
            return EXIT.ok;
        default:
            say(
                `oidc-guard check exited ${code}: an input could not be read or parsed, or the command line was wrong\n` +
                    "(see the messages above). The demo fixtures should never cause this: the installation is broken.",
            );
            return code;
    }
}

if (require.main === module) {
    // `npm start | head` closes the pipe early: stop quietly instead of printing an EPIPE stack trace.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(0);
        throw e;
    });
    void demo(processIO(), join(__dirname, "..", "..", "..")).then((code) => {
        process.exitCode = code;
    });
}
