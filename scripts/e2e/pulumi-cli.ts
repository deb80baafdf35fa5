/**
 * Drives the real Pulumi CLI for the end-to-end tests, offline: a private PULUMI_HOME with the stand-in AWS
 * provider installed, a local file backend, one temporary stack per test, and the streaming JSON event log of
 * `preview`/`up`/`destroy` parsed into events. See docs/real-cli.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";

export const REPO = join(__dirname, "..", "..");
export const PACK_DIR = join(REPO, "policypack");
export const PROGRAMS_DIR = join(REPO, "fixtures", "programs");
/** The plugin version @pulumi/aws asks the engine for (package.json `pulumi.version`). */
export const AWS_PLUGIN_VERSION = (
    JSON.parse(readFileSync(join(REPO, "node_modules", "@pulumi", "aws", "package.json"), "utf8")) as { pulumi: { version: string } }
).pulumi.version;

/** Per-command limit: a preview or update of these small programs takes seconds; a hung CLI fails the test. */
const COMMAND_TIMEOUT_MS = 240_000;
const OUTPUT_LIMIT = 16 * 1024 * 1024;
const BUILD_TIMEOUT_MS = 25 * 60_000;

export type CliLocation = { bin: string } | { skip: string };

/**
 * The bin folder holding pulumi, pulumi-language-nodejs and pulumi-language-yaml: $OIDC_GUARD_PULUMI_BIN, else what
 * scripts/build-pulumi-cli.sh builds or reuses. Without Go on the machine the tests skip with the reason, except
 * under CI=true, where that is a failure (thrown).
 */
export function locateCli(): CliLocation {
    const fromEnv = process.env["OIDC_GUARD_PULUMI_BIN"];
    if (fromEnv) {
        if (!existsSync(join(fromEnv, "pulumi"))) throw new Error(`OIDC_GUARD_PULUMI_BIN=${fromEnv} holds no pulumi binary`);
        return { bin: fromEnv };
    }
    const r = spawnSync("bash", [join(REPO, "scripts", "build-pulumi-cli.sh")], {
        cwd: REPO,
        encoding: "utf8",
        timeout: BUILD_TIMEOUT_MS,
        maxBuffer: OUTPUT_LIMIT,
    });
    const lines = (r.stdout ?? "").trim().split("\n");
    const bin = lines[lines.length - 1] ?? "";
    if (r.status === 0 && bin && existsSync(join(bin, "pulumi"))) return { bin };
    const why = `scripts/build-pulumi-cli.sh failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? "").trim().split("\n").slice(-5).join(" | ")}`;
    if (r.status === 3 && process.env["CI"] !== "true") return { skip: `the real Pulumi CLI cannot be built here: ${why}` };
    throw new Error(why);
}

export interface EngineEvent {
    sequence?: number;
    policyEvent?: PolicyEvent;
    diagnosticEvent?: { urn?: string; message: string; severity: string; prefix?: string };
    summaryEvent?: { resourceChanges?: Record<string, number>; policyPacks?: Record<string, string> };
    resourcePreEvent?: { metadata: { op: string; urn: string; type: string } };
    resOutputsEvent?: { metadata: { op: string; urn: string; type: string } };
    resOpFailedEvent?: { metadata: { op: string; urn: string; type: string } };
    [other: string]: unknown;
}

export interface PolicyEvent {
    resourceUrn?: string;
    message: string;
    color?: string;
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    policyPackVersionTag?: string;
    enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
    severity?: string;
}

export interface CliResult {
    args: string[];
    code: number | null;
    stdout: string;
    stderr: string;
    /** Engine events, one JSON object per stdout line (streaming JSON); empty for other commands. */
    events: EngineEvent[];
}

/** One line per event; anything else on stdout (there should be nothing) is ignored. */
export function parseEventStream(stdout: string): EngineEvent[] {
    const events: EngineEvent[] = [];
    for (const line of stdout.split("\n")) {
        const t = line.trim();
        if (!t.startsWith("{")) continue;
        try {
            events.push(JSON.parse(t) as EngineEvent);
        } catch {
            // a pretty-printed --json digest spans lines; callers that want it parse stdout themselves
        }
    }
    return events;
}

export function policyEvents(r: CliResult): PolicyEvent[] {
    return r.events.flatMap((e) => (e.policyEvent ? [e.policyEvent] : []));
}

/** A short account of a failed command for assertion messages (no secrets: the stacks hold none). */
export function describe(r: CliResult): string {
    const diags = r.events.flatMap((e) =>
        e.diagnosticEvent && e.diagnosticEvent.severity !== "debug" ? [`${e.diagnosticEvent.severity}: ${e.diagnosticEvent.message.trim()}`] : [],
    );
    const policies = policyEvents(r).map((e) => `policy ${e.enforcementLevel} ${e.policyName} on ${e.resourceUrn ?? "stack"}: ${e.message.trim()}`);
    diags.push(...policies);
    return `pulumi ${r.args.join(" ")} -> exit ${r.code}\n${diags.join("\n")}\nstderr: ${r.stderr.slice(-3000)}\nstdout: ${diags.length ? "" : r.stdout.slice(-3000)}`;
}

export class PulumiWorld {
    readonly root: string;
    readonly home: string;
    readonly backend: string;
    private stacks = 0;

    private constructor(readonly bin: string) {
        this.root = mkdtempSync(join(tmpdir(), "oidc-guard-e2e-"));
        this.home = join(this.root, "pulumi-home");
        this.backend = join(this.root, "state");
        mkdirSync(this.home);
        mkdirSync(this.backend);
    }

    /** A private PULUMI_HOME with the stand-in AWS provider installed as resource plugin aws <AWS_PLUGIN_VERSION>. */
    static async create(bin: string): Promise<PulumiWorld> {
        const world = new PulumiWorld(bin);
        const wrapper = join(world.root, "pulumi-resource-aws");
        writeFileSync(
            wrapper,
            [
                "#!/bin/sh",
                "# oidc-guard stand-in for the AWS provider plugin (scripts/e2e/aws-provider-standin.ts)",
                `cd ${shellQuote(REPO)} || exit 1`,
                `exec ${shellQuote(process.execPath)} --import tsx scripts/e2e/aws-provider-standin.ts "$@"`,
                "",
            ].join("\n"),
        );
        chmodSync(wrapper, 0o755);
        const r = await world.run(["plugin", "install", "resource", "aws", AWS_PLUGIN_VERSION, "--file", wrapper], {});
        if (r.code !== 0) throw new Error(`installing the stand-in AWS provider failed: ${describe(r)}`);
        return world;
    }

    env(extra: Record<string, string>): NodeJS.ProcessEnv {
        const env: NodeJS.ProcessEnv = {};
        // Only what the CLI and node need: never the runner's own cloud credentials or tokens.
        for (const k of ["HOME", "LANG", "TMPDIR", "USER", "SHELL"]) {
            if (process.env[k] !== undefined) env[k] = process.env[k];
        }
        return {
            ...env,
            PATH: [this.bin, dirname(process.execPath), process.env["PATH"] ?? "/usr/bin:/bin"].join(delimiter),
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${this.backend}`,
            PULUMI_CONFIG_PASSPHRASE: "oidc-guard-e2e",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            NO_COLOR: "1",
            ...extra,
        };
    }

    run(args: string[], extra: Record<string, string>, cwd?: string): Promise<CliResult> {
        return new Promise((resolve, reject) => {
            const child = spawn(join(this.bin, "pulumi"), args, {
                cwd: cwd ?? this.root,
                env: this.env(extra),
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            let size = 0;
            const take = (chunk: Buffer, to: "out" | "err") => {
                size += chunk.length;
                if (size > OUTPUT_LIMIT) child.kill("SIGKILL");
                if (to === "out") stdout += chunk.toString("utf8");
                else stderr += chunk.toString("utf8");
            };
            child.stdout.on("data", (c: Buffer) => take(c, "out"));
            child.stderr.on("data", (c: Buffer) => take(c, "err"));
            const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
            child.on("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ args, code, stdout, stderr, events: parseEventStream(stdout) });
            });
        });
    }

    /**
     * A new stack of a copy of a program folder (its files, with node_modules linked to the repository's), so that
     * the stack's Pulumi.<stack>.yaml never lands in the repository.
     */
    async stack(program: string, config: Record<string, string> = {}, stackName?: string): Promise<Stack> {
        const name = stackName ?? `s${++this.stacks}`;
        const dir = join(this.root, "programs", `${name}-${program.split("/").pop() ?? "program"}`);
        const source = program.startsWith("/") ? program : join(PROGRAMS_DIR, program);
        mkdirSync(dir, { recursive: true });
        for (const f of readdirSync(source)) {
            if (f === "node_modules" || f === "bin" || f.endsWith(".test.ts") || /^Pulumi\..+\.yaml$/.test(f)) continue;
            cpSync(join(source, f), join(dir, f), { recursive: true });
        }
        symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
        const stack = new Stack(this, dir, name);
        const init = await stack.cli(["stack", "init"]);
        if (init.code !== 0) throw new Error(describe(init));
        for (const [k, v] of Object.entries(config)) await stack.setConfig(k, v);
        return stack;
    }

    dispose(): void {
        rmSync(this.root, { recursive: true, force: true });
    }
}

export class Stack {
    constructor(
        readonly world: PulumiWorld,
        readonly dir: string,
        readonly name: string,
    ) {}

    cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
        return this.world.run([...args, "--cwd", this.dir, "--stack", this.name, "--non-interactive"], extra, this.dir);
    }

    async setConfig(key: string, value: string): Promise<void> {
        const r = await this.cli(["config", "set", key, value]);
        if (r.code !== 0) throw new Error(describe(r));
    }

    /** `pulumi preview --json` with the streaming event log. */
    preview(flags: string[] = []): Promise<CliResult> {
        return this.cli(["preview", "--json", ...flags], { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" });
    }

    /** `pulumi up --json`; its preview phase streams events too (PULUMI_ENABLE_STREAMING_JSON_PREVIEW). */
    up(flags: string[] = []): Promise<CliResult> {
        return this.cli(["up", "--yes", "--json", ...flags], { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" });
    }

    destroy(flags: string[] = []): Promise<CliResult> {
        return this.cli(["destroy", "--yes", "--json", ...flags], { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" });
    }

    /** `pulumi stack export` parsed. */
    async export(showSecrets = false): Promise<{ text: string; json: StackExport }> {
        const r = await this.cli(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])]);
        if (r.code !== 0) throw new Error(describe(r));
        return { text: r.stdout, json: JSON.parse(r.stdout) as StackExport };
    }
}

export interface StackExport {
    version: number;
    deployment: { resources?: { urn: string; type: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[] };
}

function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
