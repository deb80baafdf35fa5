/**
 * A ready-made world for scenario tests and benches: an STS stand-in and an ESC stand-in (self-hosted style: a
 * random port and a path prefix) for organization `acme`, with roles pinned and unpinned and one environment per
 * scenario, plus an in-memory CliIO that records everything written.
 */
import { randomBytes } from "node:crypto";
import type { CliIO } from "../io.js";
import { InFlightCounter } from "./inflight.js";
import { EscStandin, type Fault, type StandinEnvironment } from "./esc-standin.js";
import { StsStandin } from "./sts-standin.js";
import { textOf, type OutputChunk } from "../chunks.js";

export const ORG = "acme";
export const ACCOUNT = "123456789012";
export const ROLE_DEPLOY = `arn:aws:iam::${ACCOUNT}:role/esc-deploy`;
export const ROLE_UNPINNED = `arn:aws:iam::${ACCOUNT}:role/esc-unpinned`;
export const ROLE_OTHER = `arn:aws:iam::${ACCOUNT}:role/esc-other`;
export const CI_USER = `arn:aws:iam::${ACCOUNT}:user/ci-deployer`;

const sub = (env: string): string => `pulumi:environments:org:${ORG}:env:${env}`;

/** The aws-login + environmentVariables definition the reference program prints. */
export function oidcDefinition(roleArn: string, opts: { duration?: string; sessionToken?: boolean } = {}): string {
    return [
        "values:",
        "  aws:",
        "    login:",
        "      fn::open::aws-login:",
        "        oidc:",
        `          duration: ${opts.duration ?? "1h"}`,
        `          roleArn: ${roleArn}`,
        "          sessionName: pulumi-environments-session",
        "  environmentVariables:",
        "    AWS_ACCESS_KEY_ID: ${aws.login.accessKeyId}",
        "    AWS_SECRET_ACCESS_KEY: ${aws.login.secretAccessKey}",
        ...(opts.sessionToken === false ? [] : ["    AWS_SESSION_TOKEN: ${aws.login.sessionToken}"]),
        "",
    ].join("\n");
}

export interface World {
    /** Requests in flight across both stand-ins. */
    inFlight: InFlightCounter;
    sts: StsStandin;
    esc: EscStandin;
    token: string;
    /** The environment variables of a correctly configured run. */
    env: NodeJS.ProcessEnv;
    close(): Promise<void>;
}

export interface WorldOptions {
    latencyMs?: number;
    faults?: Fault[];
    /** Extra environments (e.g. 200 for the --all bench). */
    extraEnvironments?: StandinEnvironment[];
    /** Subjects admitted by esc-deploy besides the scenario ones. */
    extraDeploySubjects?: string[];
    pageSize?: number;
    /** Include the scenario environments (default true; benches leave them out). */
    scenarioEnvironments?: boolean;
    /** Validate the ESC stand-in's responses against the OpenAPI description (default true). */
    validate?: boolean;
}

/** Starts both stand-ins with the scenario environments. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
    // One counter for both stand-ins: what the verifier has in flight, whichever service it talks to.
    const inFlight = new InFlightCounter();
    const sts = await StsStandin.start({ latencyMs: options.latencyMs, inFlight });
    const user = sts.addUserKey(CI_USER);
    const staticDefinition = [
        "values:",
        "  aws:",
        "    login:",
        "      fn::open::aws-login:",
        "        static:",
        `          accessKeyId: ${user.accessKeyId}`,
        "          secretAccessKey:",
        `            fn::secret: ${user.secretAccessKey}`,
        "  environmentVariables:",
        "    AWS_ACCESS_KEY_ID: ${aws.login.accessKeyId}",
        "    AWS_SECRET_ACCESS_KEY: ${aws.login.secretAccessKey}",
        "",
    ].join("\n");
    const scenarios: StandinEnvironment[] = [
        { project: "platform", name: "prod", yaml: oidcDefinition(ROLE_DEPLOY) },
        { project: "platform", name: "dev", yaml: oidcDefinition(ROLE_DEPLOY) },
        { project: "platform", name: "denied", yaml: oidcDefinition(ROLE_DEPLOY) },
        { project: "platform", name: "missing-session-token", yaml: oidcDefinition(ROLE_DEPLOY, { sessionToken: false }) },
        { project: "platform", name: "too-long", yaml: oidcDefinition(ROLE_DEPLOY, { duration: "4h" }) },
        { project: "platform", name: "static", yaml: staticDefinition },
        {
            project: "platform",
            name: "stale-secret",
            yaml: oidcDefinition(ROLE_DEPLOY).replace(
                "AWS_SECRET_ACCESS_KEY: ${aws.login.secretAccessKey}",
                `AWS_SECRET_ACCESS_KEY:\n      fn::secret: ${randomBytes(30).toString("base64")}`,
            ),
        },
        { project: "platform", name: "other-role", yaml: oidcDefinition(ROLE_OTHER) },
        { project: "platform", name: "unpinned-prod", yaml: oidcDefinition(ROLE_UNPINNED) },
        { project: "platform", name: "unpinned-dev", yaml: oidcDefinition(ROLE_UNPINNED) },
        { project: "platform", name: "no-aws", yaml: "values:\n  app:\n    region: eu-west-1\n" },
    ];
    const environments = [...(options.scenarioEnvironments === false ? [] : scenarios), ...(options.extraEnvironments ?? [])];
    const token = `pul-${randomBytes(20).toString("hex")}`;
    const esc = await EscStandin.start({
        org: ORG,
        token,
        sts,
        prefix: "/self-hosted/pulumi",
        latencyMs: options.latencyMs,
        inFlight,
        pageSize: options.pageSize,
        faults: options.faults,
        validate: options.validate,
        environments,
        roles: [
            {
                arn: ROLE_DEPLOY,
                subjects: [
                    sub("platform/prod"),
                    sub("platform/missing-session-token"),
                    sub("platform/too-long"),
                    sub("platform/stale-secret"),
                    ...(options.extraDeploySubjects ?? []),
                ],
            },
            { arn: ROLE_UNPINNED, subjects: ["*"] },
            { arn: ROLE_OTHER, subjects: [sub("platform/other-role")] },
        ],
    });
    return {
        inFlight,
        sts,
        esc,
        token,
        env: {
            PULUMI_ACCESS_TOKEN: token,
            PULUMI_BACKEND_URL: esc.url,
            AWS_ENDPOINT_URL_STS: sts.url,
            AWS_REGION: "eu-west-1",
        },
        async close() {
            await Promise.all([esc.close(), sts.close()]);
        },
    };
}

/** A CliIO whose streams record what is written. */
export interface CapturedIO extends CliIO {
    out: string[];
    err: string[];
}

export function captureIO(env: NodeJS.ProcessEnv, opts: { cwd?: string; tty?: boolean } = {}): CapturedIO {
    const out: string[] = [];
    const err: string[] = [];
    return {
        out,
        err,
        env,
        cwd: opts.cwd ?? process.cwd(),
        stdout: { write: (s: OutputChunk) => out.push(textOf(s)), isTTY: opts.tty ?? false },
        stderr: { write: (s: string) => err.push(s), isTTY: opts.tty ?? false },
    };
}

/**
 * Runs `fn` with `env` set in this process's environment, for code under test that reads it itself (the AWS SDK's
 * credential chain and endpoint settings, in-process), and restores every variable afterwards.
 */
export async function withProcessEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
        return await fn();
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}
