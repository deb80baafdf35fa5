/**
 * Reads the expected role and the environment(s) to verify from `pulumi stack output --json`, so the step after
 * `pulumi up` needs no copy-paste. The default keys match the repository's reference program (`roleArn`,
 * `escEnvironments`); `--role-arn-output` / `--environment-output` name others.
 */
import { describeJsonProblem, parseJson } from "../check/json.js";
import { InputReadError, readTextFile } from "../read.js";
import { resolve } from "node:path";
import { VerifyConfigError } from "./errors.js";

export const DEFAULT_ROLE_ARN_OUTPUT = "roleArn";
export const DEFAULT_ENVIRONMENT_OUTPUT = "escEnvironments";

export interface StackOutputKeys {
    roleArn: string;
    /** True when the user named the key (a missing key is then an error, not a silent default). */
    roleArnExplicit: boolean;
    environment: string;
    environmentExplicit: boolean;
}

export interface StackOutputValues {
    roleArn?: string;
    /** `<org>/<project>/<env>` strings, unparsed. */
    environments?: string[];
}

/** What `pulumi stack output --json` prints for a secret output without --show-secrets. */
const SECRET_PLACEHOLDER = "[secret]";

/** `pulumi stack output --json` is small; past 16 MiB the file is refused while reading. */
const MAX_STACK_OUTPUTS_BYTES = 16 * 1024 * 1024;

/** Reads and interprets the outputs file. Throws VerifyConfigError naming the file, the key and the problem. */
export function readStackOutputs(file: string, cwd: string, keys: StackOutputKeys): StackOutputValues {
    const path = resolve(cwd, file);
    let text: string;
    try {
        text = readTextFile(path, MAX_STACK_OUTPUTS_BYTES);
    } catch (e) {
        const code = e instanceof InputReadError ? (e.code ?? "") : "";
        const why = e instanceof InputReadError && e.reason !== "io" ? `: ${e.message}` : "";
        throw new VerifyConfigError(
            `--stack-outputs ${file}: cannot read the file${code === "ENOENT" ? " (it does not exist)" : code ? ` (${code})` : ""}${why}`,
            "write it with: pulumi stack output --json > " + file,
        );
    }
    // The CLI's one strict JSON reader (depth-limited; quotes at most one character of the file).
    const parsed = parseJson(text);
    if (!parsed.ok) {
        throw new VerifyConfigError(`--stack-outputs ${file}: not JSON: ${describeJsonProblem(parsed.problem)}`, "write it with: pulumi stack output --json > " + file);
    }
    const outputs = parsed.value;
    if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
        throw new VerifyConfigError(`--stack-outputs ${file}: expected a JSON object of outputs, as \`pulumi stack output --json\` prints`);
    }
    const o = outputs as Record<string, unknown>;
    const result: StackOutputValues = {};

    const role = o[keys.roleArn];
    if (role === undefined) {
        if (keys.roleArnExplicit) {
            throw new VerifyConfigError(`--stack-outputs ${file}: no output '${keys.roleArn}' (--role-arn-output)`, `outputs present: ${listKeys(o)}`);
        }
    } else if (role === SECRET_PLACEHOLDER) {
        throw new VerifyConfigError(`--stack-outputs ${file}: output '${keys.roleArn}' is a secret ([secret])`, "export it unsecret, or write the file with --show-secrets");
    } else if (typeof role !== "string") {
        throw new VerifyConfigError(`--stack-outputs ${file}: output '${keys.roleArn}' is not a string`);
    } else {
        result.roleArn = role;
    }

    const env = o[keys.environment];
    if (env === undefined) {
        if (keys.environmentExplicit) {
            throw new VerifyConfigError(`--stack-outputs ${file}: no output '${keys.environment}' (--environment-output)`, `outputs present: ${listKeys(o)}`);
        }
    } else if (env === SECRET_PLACEHOLDER) {
        throw new VerifyConfigError(`--stack-outputs ${file}: output '${keys.environment}' is a secret ([secret])`, "export it unsecret, or write the file with --show-secrets");
    } else if (typeof env === "string") {
        result.environments = [env];
    } else if (Array.isArray(env) && env.length > 0 && env.every((e) => typeof e === "string")) {
        result.environments = env;
    } else {
        throw new VerifyConfigError(
            `--stack-outputs ${file}: output '${keys.environment}' must be <org>/<project>/<env> or a non-empty list of them`,
        );
    }
    return result;
}

function listKeys(o: Record<string, unknown>): string {
    const keys = Object.keys(o);
    if (keys.length === 0) return "(none)";
    return keys.slice(0, 20).join(", ") + (keys.length > 20 ? ", …" : "");
}
