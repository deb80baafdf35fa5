/**
 * The one argument parser of `check`, `verify` and `report`: node:util `parseArgs` (strict, positionals allowed)
 * with the same messages everywhere. Each command keeps its own option table and passes it in; every problem is a
 * {@link CliError} with exit code 2 that ends with the same hint:
 *
 *   unknown option '--colour'
 *   option '--org <value>' needs a value          (missing, or empty)
 *   option '--no-sts' does not take a value
 *   unknown --format 'xml': expected one of text, json, ...
 *   hint: run 'oidc-guard check --help' for the options
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError, EXIT } from "./io.js";

/** A command's option table, as node:util `parseArgs` takes it. */
export type OptionTable = NonNullable<ParseArgsConfig["options"]>;

type Config<O extends OptionTable> = { args: string[]; options: O; allowPositionals: true; strict: true };
/** What {@link parseCommandArgs} returns: parseArgs' own typed `values` and `positionals`. */
export type ParsedCommandArgs<O extends OptionTable> = ReturnType<typeof parseArgs<Config<O>>>;

/** The last line of every usage error. */
export function helpHint(command: string): string {
    return `hint: run 'oidc-guard ${command} --help' for the options`;
}

/** A usage error (exit 2) of `command`, with the help hint. */
export function usageError(command: string, message: string): CliError {
    return new CliError(`${message}\n${helpHint(command)}`, EXIT.usage);
}

/**
 * `--<name>`'s value `raw` as a whole number from `min` to `max` (blanks around it ignored); else a usage error of
 * `command` naming the flag, the range, `why` (what a value means, when that helps) and the value given.
 */
export function wholeNumberOption(command: string, name: string, raw: string, min: number, max: number, why = ""): number {
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
        throw usageError(command, `--${name} must be a whole number from ${min} to ${max}${why}, got '${raw}'`);
    }
    return Number(raw);
}

function codeOf(e: unknown): string | undefined {
    return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;
}

/** Node's parseArgs messages in our words, without its advice about `--` (which fits no flag here). */
function describeParseError(e: unknown, options: OptionTable): string {
    const message = e instanceof Error ? e.message : String(e);
    const code = codeOf(e);
    // "Option '-f, --format <value>' argument missing": the long name when there is one.
    const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
    const named = /(--[^\s',]+)/.exec(quoted)?.[1] ?? /(-[^\s',]+)/.exec(quoted)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option '${named ?? "?"}'`;
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && named !== undefined) {
        const name = named.replace(/^-+/, "");
        const long = Object.entries(options).find(([key, o]) => key === name || o.short === name)?.[0] ?? name;
        if (options[long]?.type === "boolean") return `option '--${long}' does not take a value`;
        return `option '--${long} <value>' needs a value`;
    }
    return (message.split("\n")[0] ?? message).replace(/\.$/, "");
}

/**
 * Parses `argv` strictly against `options`. A string option given an empty (or all-blank) value is a missing value,
 * like one given none at all.
 * @throws CliError (exit 2) naming the option and the problem, followed by {@link helpHint}.
 */
export function parseCommandArgs<O extends OptionTable>(command: string, argv: string[], options: O): ParsedCommandArgs<O> {
    let parsed: ParsedCommandArgs<O>;
    try {
        parsed = parseArgs<Config<O>>({ args: argv, options, allowPositionals: true, strict: true });
    } catch (e) {
        throw usageError(command, describeParseError(e, options));
    }
    const values = parsed.values as Record<string, string | boolean | Array<string | boolean> | undefined>;
    for (const [name, value] of Object.entries(values)) {
        const all = Array.isArray(value) ? value : [value];
        if (all.some((v) => typeof v === "string" && v.trim() === "")) {
            throw usageError(command, `option '--${name} <value>' needs a value`);
        }
    }
    return parsed;
}

/**
 * Checks a `--format` value against the formats a command accepts.
 * @throws CliError (exit 2): `unknown --format '<x>': expected one of <allowed>`.
 */
export function checkFormat<F extends string>(command: string, value: string, allowed: readonly F[]): F {
    if ((allowed as readonly string[]).includes(value)) return value as F;
    throw usageError(command, `unknown --format '${value}': expected one of ${allowed.join(", ")}`);
}
