/**
 * One iterative walker for "apply a string function to every string of a JSON-like value, object keys included":
 * the escaping of every medium (escape.ts) and the redactor (redact.ts) both need it. Iterative, so the depth of
 * the value does not matter (issue 10: no recursion over input depth).
 */

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
            const key = map(k);
            const v = copy(src[k]);
            // defineProperty: a key named __proto__ stays an own property, as JSON.parse made it.
            if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
            else out[key] = v;
        }
    }
    return root as T;
}
