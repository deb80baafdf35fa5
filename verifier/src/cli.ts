#!/usr/bin/env node
/**
 * `oidc-guard <command>`: a thin dispatcher. Each command lives in commands/<name>.ts and exports
 * `main(argv, io) => Promise<exitCode>`; commands are loaded lazily so `check` never pays for the AWS SDK.
 */
import { CliError, DEBUG_ENV, EXIT, processIO, type CliIO } from "./io.js";
import { EXIT_CODES_HELP, README_URL } from "./docs.js";
import { escapeTextOutput } from "./escape.js";
import { Redactor } from "./redact.js";
import { toolInfo } from "./version.js";

type CommandMain = (argv: string[], io: CliIO) => Promise<number>;

/** The commands by name: a Map, so that a name like `constructor` or `__proto__` is unknown, not an object's property. */
const COMMANDS: ReadonlyMap<string, { summary: string; load: () => Promise<CommandMain> }> = new Map(
    Object.entries({
        check: {
            summary: "Check IAM trust policies (files, stack exports, previews, AWS listings) for Pulumi OIDC pinning.",
            load: async () => (await import("./commands/check.js")).main,
        },
        scan: {
            summary: "Read every IAM role and OIDC provider of live AWS accounts and check them like 'check'.",
            load: async () => (await import("./commands/scan.js")).main,
        },
        verify: {
            summary: "Open an ESC environment and prove it yields working temporary AWS credentials.",
            load: async () => (await import("./commands/verify.js")).main,
        },
        report: {
            summary: "Merge check and verify results into JSON, SARIF, JUnit, Markdown or HTML reports.",
            load: async () => (await import("./commands/report.js")).main,
        },
    }),
);

function usage(): string {
    const lines = [...COMMANDS].map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
    return (
        `Usage: oidc-guard <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n` +
        `Run 'oidc-guard <command> --help' for a command's options.\n\n${EXIT_CODES_HELP}\n\nDocumentation: ${README_URL}\n`
    );
}

export async function run(argv: string[], rawIO: CliIO): Promise<number> {
    const redactor = rawIO.redactor ?? new Redactor();
    redactor.add(rawIO.env.PULUMI_ACCESS_TOKEN?.trim());
    // Every command's stderr is scrubbed of credentials (known secrets and their shapes: a file name or a service's
    // message may hold one), shows control characters as escapes and is guarded for CI logs (escape.ts); the raw
    // stream stays reachable for the tool's own workflow commands.
    const stderr = { write: (s: string) => rawIO.stderr.write(escapeTextOutput(redactor.scrub(s))), isTTY: rawIO.stderr.isTTY };
    const io: CliIO = { ...rawIO, redactor, stderr, rawStderr: rawIO.rawStderr ?? rawIO.stderr };
    // Everything the dispatcher itself writes to stderr (errors, internal errors) is scrubbed and escaped first.
    const fail = (text: string): void => {
        rawIO.stderr.write(escapeTextOutput(redactor.scrub(text)));
    };
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        io.stdout.write(usage());
        return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === "--version" || name === "-V") {
        io.stdout.write(`${toolInfo().version}\n`);
        return EXIT.ok;
    }
    const command = COMMANDS.get(name);
    if (!command) {
        fail(`oidc-guard: unknown command '${name}'\n\n${usage()}`);
        return EXIT.usage;
    }
    try {
        return await (await command.load())(rest, io);
    } catch (e) {
        if (e instanceof CliError) {
            fail(`oidc-guard ${name}: ${e.message}\n`);
            return e.exitCode;
        }
        // An exception nobody expected is a bug, with its own exit code. No stack trace unless asked for with
        // OIDC_GUARD_DEBUG=1: say what happened in one line (messages are built to carry no credentials, and the
        // line is scrubbed and escaped all the same).
        const message = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
        fail(
            `oidc-guard ${name}: internal error: ${message}\n` +
                `hint: this is a bug in oidc-guard; run again with ${DEBUG_ENV}=1 for the stack trace and report it\n`,
        );
        if (io.env[DEBUG_ENV] === "1" && e instanceof Error && e.stack !== undefined) fail(`${e.stack}\n`);
        return EXIT.internal;
    }
}

/** Runs the CLI in this process: argv, stdio and the exit code. */
export function main(): void {
    // `oidc-guard check … | head`: a reader that goes away is not an error worth a stack trace, nor a reason to end
    // with a code that is not the command's. The stream is closed, so the command writes nothing more (writeChunked
    // stops) and exits with its own code: under `set -o pipefail` a violation is still a failure, never a pass.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") return;
        throw e;
    });
    const redactor = new Redactor();
    const io: CliIO = {
        ...processIO(),
        redactor,
        setProcessDeadline: (ms, what) => {
            // Unref'd: it never keeps the process alive, it only ends one that outlives its deadline.
            setTimeout(() => {
                process.stderr.write(redactor.scrub(`oidc-guard: ${what}: the overall deadline of ${ms / 1000} s passed; exiting\n`));
                process.exit(EXIT.couldNotVerify);
            }, ms + EXIT_GRACE_MS).unref();
        },
    };
    void run(process.argv.slice(2), io).then((code) => {
        process.exitCode = code;
        // The work is done: a socket or timer a library left open must not keep the process (and a CI job) alive.
        // Unref'd, so a process that empties its event loop exits at once; stdout is flushed before the exit.
        setTimeout(() => {
            process.stdout.write("", () => process.exit(code));
        }, EXIT_GRACE_MS).unref();
    });
}

/** How long a finished process (or one past its deadline) may take to exit on its own before it is ended. */
const EXIT_GRACE_MS = 1000;

if (require.main === module) main();
