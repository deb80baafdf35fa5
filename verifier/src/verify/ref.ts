/**
 * Environment references (`<org>/<project>/<env>`) and Go durations (`--duration 1h30m`), parsed strictly so that a
 * typo is a usage error (exit 2) and never a request to a wrong path.
 */
import { VerifyConfigError } from "./errors.js";

/** An ESC environment: organization, project and environment name. */
export interface EnvRef {
    org: string;
    project: string;
    name: string;
}

// Organization names: the ESC OpenAPI description's orgName pattern, relaxed to allow 1-2 characters.
const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$/;
// Project and environment names: the ESC OpenAPI ProjectName/EnvName character set.
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** What a valid organization name is, for messages. */
export const ORG_NAME_RULE = "letters, digits, '-' and '_', at most 40";
/** What a valid project or environment name is, for messages. */
export const ENV_NAME_RULE = "letters, digits, '.', '-' and '_', at most 100";

/** True when `value` is an organization name ESC accepts. */
export function isOrgName(value: string): boolean {
    return ORG.test(value);
}

/**
 * True when `value` is a project or environment name ESC accepts. `.` and `..` are refused too: as a path segment
 * they would address another resource than the environment.
 */
export function isEnvName(value: string): boolean {
    return NAME.test(value) && value !== "." && value !== "..";
}
// A Pulumi access token: `pul-` and 40 hex digits.
const PULUMI_TOKEN = /\bpul-[0-9a-f]{40}\b/i;

/** True when a string looks like it holds a Pulumi access token (which must never come from argv or be echoed). */
export function looksLikePulumiToken(text: string): boolean {
    return PULUMI_TOKEN.test(text);
}

/**
 * Parses `<org>/<project>/<env>`. `what` names the input in the error (e.g. `--expect-denied`).
 * Throws VerifyConfigError naming the input and the problem; never echoes something that looks like a token.
 */
export function parseEnvRef(text: string, what = "environment"): EnvRef {
    if (looksLikePulumiToken(text)) {
        throw new VerifyConfigError(
            `${what}: the value looks like a Pulumi access token, not <org>/<project>/<env>`,
            "tokens are read from PULUMI_ACCESS_TOKEN only; never pass one as an argument (and revoke it if it was logged)",
        );
    }
    const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
    const parts = text.split("/");
    if (parts.length !== 3) {
        throw new VerifyConfigError(
            `${what} '${shown}' is not of the form <org>/<project>/<env>`,
            parts.length === 2
                ? "ESC environments are addressed with their project: <org>/<project>/<env> (legacy environments live in project 'default')"
                : undefined,
        );
    }
    const [org, project, name] = parts as [string, string, string];
    if (!isOrgName(org)) {
        throw new VerifyConfigError(`${what} '${shown}': organization '${org}' is not a valid name (${ORG_NAME_RULE})`);
    }
    for (const [label, value] of [
        ["project", project],
        ["environment", name],
    ] as const) {
        if (!isEnvName(value)) {
            throw new VerifyConfigError(`${what} '${shown}': ${label} '${value}' is not a valid name (${ENV_NAME_RULE})`);
        }
    }
    return { org, project, name };
}

/** `<org>/<project>/<env>` */
export function formatEnvRef(ref: EnvRef): string {
    return `${ref.org}/${ref.project}/${ref.name}`;
}

/** `<project>/<env>`: how ESC names an environment inside its organization (diagnostic ranges, `sub` claims). */
export function envNameInOrg(ref: EnvRef): string {
    return `${ref.project}/${ref.name}`;
}

const UNIT_MS: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
};

/**
 * Parses a Go duration (`time.ParseDuration` syntax: `1h`, `90m`, `1h30m`, `1.5h`, `300ms`) to milliseconds.
 * Returns undefined when the text is not one. Signs are rejected: a session duration must be positive.
 */
export function parseGoDuration(text: string): number | undefined {
    if (text === "0") return 0;
    const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
    let total = 0;
    let pos = 0;
    while (pos < text.length) {
        re.lastIndex = pos;
        const m = re.exec(text);
        if (!m) return undefined;
        const unit = UNIT_MS[m[2] as string];
        if (unit === undefined) return undefined;
        total += Number(m[1]) * unit;
        pos = re.lastIndex;
    }
    return pos === 0 ? undefined : total;
}

/** Formats milliseconds as a short Go-style duration (`1h30m`, `45s`, `250ms`). */
export function formatDuration(ms: number): string {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    let s = Math.round(ms / 1000);
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
