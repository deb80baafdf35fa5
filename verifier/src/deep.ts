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
    const stack: { from: unknown; to: unknown }[] = [{ from: value, to: root }];
    while (stack.length > 0) {
        const { from, to } = stack.pop()!;
        const entries: [string | number, unknown][] = Array.isArray(from)
            ? from.map((v, i): [number, unknown] => [i, v])
            : Object.entries(from as Record<string, unknown>);
        for (const [k, v] of entries) {
            let copy: unknown = v;
            if (typeof v === "string") copy = map(v);
            else if (v !== null && typeof v === "object") {
                copy = Array.isArray(v) ? [] : {};
                stack.push({ from: v, to: copy });
            }
            if (Array.isArray(to)) (to as unknown[])[k as number] = copy;
            // defineProperty: a key named __proto__ stays an own property, as JSON.parse made it.
            else Object.defineProperty(to, map(String(k)), { value: copy, enumerable: true, writable: true, configurable: true });
        }
    }
    return root as T;
}
