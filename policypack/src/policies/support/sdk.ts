/**
 * Typed access to the parts of @pulumi/policy 1.21 that its declarations hide (`UnknownValueError` and
 * `unknownCheckingProxy` are exported at runtime but marked @internal, so their .d.ts is empty), and reading
 * resource properties through the SDK's unknown-checking proxy without losing any unknown.
 */
import * as policySdk from "@pulumi/policy";
import { putOwn, UNKNOWN_SENTINELS } from "../../analysis/index.js";
import { forPulumiDisplay } from "./display.js";

/** The SDK's error for a value unknown at preview; the SDK turns it into an advisory "can't run policy" diagnostic. */
export interface UnknownValueErrorInstance extends Error {
    unknownTypeSentinel: string;
    props: PropertyKey[];
}

interface UnknownValueErrorClass {
    new (unknownTypeSentinel: string, props: PropertyKey[]): UnknownValueErrorInstance;
}

const unknownValueErrorExport: unknown = policySdk.UnknownValueError;
const unknownCheckingProxyExport: unknown = policySdk.unknownCheckingProxy;

/** The SDK's `UnknownValueError` class (the very one its server checks with `instanceof`). */
export const UnknownValueError = unknownValueErrorExport as UnknownValueErrorClass;

/** The SDK's `unknownCheckingProxy`: property reads of unknown sentinels throw `UnknownValueError`. */
export const unknownCheckingProxy = unknownCheckingProxyExport as <T extends object>(value: T) => T;

export function isUnknownValueError(e: unknown): e is UnknownValueErrorInstance {
    return e instanceof UnknownValueError;
}

/** A property read in full: its plain value and the paths of every part unknown at preview. */
export interface DeepRead {
    /** The value as plain data; each unknown part is left as its engine sentinel (so `findUnknowns` sees it). */
    value: unknown;
    /** Paths such as `assumeRolePolicy.Statement[0].Principal.Federated`; empty when everything is known. */
    unknownPaths: string[];
    /** The engine sentinel of the first unknown found. */
    sentinel: string | null;
}

/**
 * Reads `holder[key]` and everything below it through the SDK's proxy. Each read that throws `UnknownValueError`
 * is recorded (not swallowed: callers rethrow with `throwUnknown`), so every unknown is found, not only the first.
 * Strings holding a sentinel (a JSON document built around an unknown) count as unknown too.
 */
export function readDeep(holder: object, key: string): DeepRead {
    const acc: DeepRead = { value: undefined, unknownPaths: [], sentinel: null };
    acc.value = readKey(holder, key, key, acc);
    return acc;
}

function readKey(holder: object, key: string | number, path: string, acc: DeepRead): unknown {
    let v: unknown;
    try {
        v = (holder as Record<string | number, unknown>)[key];
    } catch (e) {
        if (!isUnknownValueError(e)) throw e;
        acc.unknownPaths.push(path);
        acc.sentinel ??= e.unknownTypeSentinel;
        return e.unknownTypeSentinel;
    }
    return toPlain(v, path, acc);
}

function toPlain(v: unknown, path: string, acc: DeepRead): unknown {
    if (typeof v === "string") {
        const s = UNKNOWN_SENTINELS.find((x) => v.includes(x));
        if (s !== undefined) {
            acc.unknownPaths.push(path);
            acc.sentinel ??= s;
        }
        return v;
    }
    if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) out.push(readKey(v, i, `${path}[${i}]`, acc));
        return out;
    }
    if (v !== null && typeof v === "object") {
        const out: Record<string, unknown> = {};
        // Own properties, as JSON.parse makes them: an assignment to a `__proto__` key would set the copy's prototype.
        for (const k of Object.keys(v)) putOwn(out, k, readKey(v, k, memberPath(path, k), acc));
        return out;
    }
    return v;
}

/** `a.b` for identifier-like keys, `a["api.pulumi.com/oidc:sub"]` otherwise (the analysis's path style). */
function memberPath(path: string, key: string): string {
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Throws the SDK's `UnknownValueError` with our own message, which the SDK shows as
 * "can't run policy '<name>' from policy pack '<pack>@v<version>' during preview: <message>" at advisory level.
 */
export function throwUnknown(message: string, sentinel: string | null, path: string[]): never {
    const known = sentinel !== null && UNKNOWN_SENTINELS.includes(sentinel) ? sentinel : UNKNOWN_SENTINELS[0]!;
    const err = new UnknownValueError(known, path);
    // It names paths of the program's values: shown for Pulumi's display like a violation.
    err.message = forPulumiDisplay(message);
    throw err;
}

/**
 * Answers "not applicable" through the SDK: `args.notApplicable` throws the SDK's `NotApplicableError`, which the SDK
 * catches and reports by its reason alone. That exception is control flow, thrown by each policy for most resources
 * of a stack (three times for a resource of another type), so no stack trace is captured for it: about 12 µs each in
 * the pack, measured over gRPC.
 */
export function notApplicable(args: { notApplicable: (reason?: string) => never }, reason: string): never {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return args.notApplicable(forPulumiDisplay(reason));
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/**
 * An error the engine shows as is: the SDK forwards `e.stack` to the CLI, so the stack is replaced by the message
 * (a configuration mistake is not a crash, and a trace helps nobody). The message is one line, shown for Pulumi's
 * display: it may quote a key of the user's configuration.
 */
export class PolicyPackError extends Error {
    constructor(message: string) {
        super(forPulumiDisplay(message));
        this.name = "PolicyPackError";
        this.stack = `${this.name}: ${this.message}`;
    }
}
