#!/usr/bin/env node
/**
 * `oidc-guard <command>`: a thin dispatcher. Each command lives in commands/<name>.ts and exports
 * `main(argv, io) => Promise<exitCode>`; commands are loaded lazily so `check` never pays for the AWS SDK.
 */
import { CliError, DEBUG_ENV, EXIT, processIO, type CliIO } from "./io.js";
import { EXIT_CODES_HELP, README_URL } from "./docs.js";
import { toolInfo } from "./version.js";

type CommandMain = (argv: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandMain> }> = {
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
};

function usage(): string {
    const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
    return (
        `Usage: oidc-guard <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n` +
        `Run 'oidc-guard <command> --help' for a command's options.\n\n${EXIT_CODES_HELP}\n\nDocumentation: ${README_URL}\n`
    );
}

export async function run(argv: string[], io: CliIO): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        io.stdout.write(usage());
        return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === "--version" || name === "-V") {
        io.stdout.write(`${toolInfo().version}\n`);
        return EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) {
        io.stderr.write(`oidc-guard: unknown command '${name}'\n\n${usage()}`);
        return EXIT.usage;
    }
    try {
        return await (await command.load())(rest, io);
    } catch (e) {
        if (e instanceof CliError) {
            io.stderr.write(`oidc-guard ${name}: ${e.message}\n`);
            return e.exitCode;
        }
        // An exception nobody expected is a bug, with its own exit code. No stack trace unless asked for with
        // OIDC_GUARD_DEBUG=1: say what happened in one line (messages are built to carry no credentials).
        const message = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
        io.stderr.write(
            `oidc-guard ${name}: internal error: ${message}\n` +
                `hint: this is a bug in oidc-guard; run again with ${DEBUG_ENV}=1 for the stack trace and report it\n`,
        );
        if (io.env[DEBUG_ENV] === "1" && e instanceof Error && e.stack !== undefined) io.stderr.write(`${e.stack}\n`);
        return EXIT.internal;
    }
}

/** Runs the CLI in this process: argv, stdio and the exit code. */
export function main(): void {
    // `oidc-guard check … | head`: a reader that goes away is not an error worth a stack trace.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
        throw e;
    });
    void run(process.argv.slice(2), processIO()).then((code) => {
        process.exitCode = code;
    });
}

if (require.main === module) main();
