/**
 * Own properties only, for objects whose keys come from input. A policy, a template or an export may name a key
 * `__proto__`, `constructor` or `toString`: reading one must not find `Object.prototype`'s member, and writing one
 * must make a property as `JSON.parse` does, never set the object's prototype. Shared by the pack, `check` and
 * the analysis' own read-back, so that the rule is written once.
 */

/** `rec[key]` when `rec` has it as its own property, else undefined. */
export function ownValue(rec: object, key: string | number): unknown {
    return Object.prototype.hasOwnProperty.call(rec, key) ? (rec as Record<string | number, unknown>)[key] : undefined;
}

/** `out[key] = v`, keeping a key named `__proto__` an own property (as JSON.parse makes it), never `out`'s prototype. */
export function putOwn(out: Record<string, unknown>, key: string, v: unknown): void {
    if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
}
