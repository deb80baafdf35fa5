/**
 * One iterative walker for "apply a string function to every string of a JSON-like value, object keys included":
 * the escaping of every medium (escape.ts) and the redactor (redact.ts) both need it. Iterative, so the depth of
 * the value does not matter (issue 10: no recursion over input depth).
 */

import { putOwn } from "oidc-guard-policypack/analysis";

/** A deep copy of `value` with `map` applied to every string, object keys included. */
export function mapStringsDeep<T>(value: T, map: (s: string) => string): T {
    if (typeof value === "string") return map(value) as T;
    if (value === null || typeof value !== "object") return value;
    const root: unknown = Array.isArray(value) ? [] : {};
    // Pairs (from, to) still to copy; a report of 100,000 roles has millions of values, so no array per value.
    const stack: unknown[] = [value, root];
    const copy = (v: unknown): unknown => {
        if (typeof v === "string") return map(v);
        if (v === null || typeof v !== "object") return v;
        const to: unknown = Array.isArray(v) ? [] : {};
        stack.push(v, to);
        return to;
    };
    while (stack.length > 0) {
        const to = stack.pop();
        const from = stack.pop();
        if (Array.isArray(from)) {
            const out = to as unknown[];
            for (let i = 0; i < from.length; i++) if (i in from) out[i] = copy(from[i]);
            continue;
        }
        const src = from as Record<string, unknown>;
        const out = to as Record<string, unknown>;
        for (const k of Object.keys(src)) {
            putOwn(out, map(k), copy(src[k]));
        }
    }
    return root as T;
}

/** One object or array of {@link mapStringsShared}'s walk: its entries, the next one to look at, and its copy once one differs. */
interface Frame {
    from: unknown[] | Record<string, unknown>;
    /** The keys of an object, in order; null for an array. */
    keys: string[] | null;
    next: number;
    /** The copy, made when the first entry (or key) differs: entries before it are the same values. */
    to: unknown[] | Record<string, unknown> | null;
}

/**
 * {@link mapStringsDeep}, but sharing what `map` leaves alone: an object or array none of whose strings (keys
 * included) `map` changes is returned itself, not copied, and a copy holds the unchanged parts of the original. For
 * values that are only read afterwards (the report model: a report of 100,000 roles in which nothing is a secret
 * costs no second copy of every result). Iterative, like the copy. `map` must be pure: a value is read once to learn
 * whether anything changes, and again to copy it when something does.
 */
export function mapStringsShared<T>(value: T, map: (s: string) => string): T {
    if (typeof value === "string") return map(value) as T;
    if (value === null || typeof value !== "object") return value;
    // Nearly always nothing changes (a report without a secret): a walk that only reads says so without a frame
    // and a list of keys for every object.
    if (!changesAny(value, map)) return value;
    const frame = (v: object): Frame => ({
        from: v as Frame["from"],
        keys: Array.isArray(v) ? null : Object.keys(v),
        next: 0,
        to: null,
    });
    /** The copy of `f`, made now if it was not: entries before `f.next` as they were (keys unchanged). */
    const copyOf = (f: Frame): unknown[] | Record<string, unknown> => {
        if (f.to !== null) return f.to;
        if (f.keys === null) {
            const src = f.from as unknown[];
            const out: unknown[] = new Array<unknown>(src.length);
            for (let i = 0; i < f.next; i++) if (i in src) out[i] = src[i];
            f.to = out;
        } else {
            const src = f.from as Record<string, unknown>;
            const out: Record<string, unknown> = {};
            for (let i = 0; i < f.next; i++) putOwn(out, f.keys[i]!, src[f.keys[i]!]);
            f.to = out;
        }
        return f.to;
    };
    /** Sets entry `f.next` of the copy (under its mapped key, for an object) to `v`. */
    const set = (f: Frame, v: unknown, key: string | undefined): void => {
        const to = copyOf(f);
        if (f.keys === null) (to as unknown[])[f.next] = v;
        else putOwn(to as Record<string, unknown>, key!, v);
    };
    /** Entry `f.next` is `now` where it was `was`: copy it over when it differs or a copy exists; then the next. */
    const settle = (f: Frame, was: unknown, now: unknown): void => {
        const key = f.keys === null ? undefined : f.keys[f.next]!;
        const mappedKey = key === undefined ? undefined : map(key);
        if (now !== was || mappedKey !== key || f.to !== null) set(f, now, mappedKey);
        f.next++;
    };
    const stack: Frame[] = [frame(value)];
    while (stack.length > 0) {
        const f = stack[stack.length - 1]!;
        const len = f.keys === null ? (f.from as unknown[]).length : f.keys.length;
        if (f.next >= len) {
            stack.pop();
            const parent = stack[stack.length - 1];
            if (parent === undefined) return (f.to ?? f.from) as T;
            settle(parent, f.from, f.to ?? f.from);
            continue;
        }
        if (f.keys === null && !(f.next in (f.from as unknown[]))) {
            f.next++;
            continue;
        }
        const v = f.keys === null ? (f.from as unknown[])[f.next] : (f.from as Record<string, unknown>)[f.keys[f.next]!];
        if (v !== null && typeof v === "object") {
            stack.push(frame(v));
            continue;
        }
        settle(f, v, typeof v === "string" ? map(v) : v);
    }
    return value;
}

/** Whether `map` changes any string of `value` (object keys included): a walk that stops at the first. */
function changesAny(value: object, map: (s: string) => string): boolean {
    const stack: object[] = [value];
    while (stack.length > 0) {
        const v = stack.pop()!;
        if (Array.isArray(v)) {
            const items = v as unknown[];
            for (let i = 0; i < items.length; i++) {
                if (!(i in items)) continue;
                const item = items[i];
                if (typeof item === "string") {
                    if (map(item) !== item) return true;
                } else if (item !== null && typeof item === "object") stack.push(item);
            }
            continue;
        }
        const o = v as Record<string, unknown>;
        for (const key of Object.keys(o)) {
            if (map(key) !== key) return true;
            const item = o[key];
            if (typeof item === "string") {
                if (map(item) !== item) return true;
            } else if (item !== null && typeof item === "object") stack.push(item);
        }
    }
    return false;
}

