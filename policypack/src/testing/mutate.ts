/**
 * Seeded mutations of JSON values, for tests that feed hostile variants of the bundled fixtures to the code that reads
 * them: the pack's policies (`policies/mutated-inputs.test.ts`) and the CLI (`verifier/src/commands/mutated-inputs.test.ts`,
 * `verifier/src/verify/credentials.test.ts`). Not shipped.
 */

/**
 * A bidi override, BEL, an ANSI colour, HTML/XML markup, a Pulumi colour directive, and a new line starting a CI
 * workflow command.
 */
export const MARK = "\u202e\u0007\u001b[31m<b>&amp;</b><{%x%}>\n  ::error::x";
/** The marker's control characters: none may reach a terminal, a log or a rendered report raw. */
export const MARK_CONTROLS: readonly string[] = ["\u0007", "\u001b", "\u202e"];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The seed of a run: `OIDC_GUARD_MUTATION_SEED` when set (to explore other cases), else the one the suite always runs.
 */
export function mutationSeed(): number {
    const raw = process.env["OIDC_GUARD_MUTATION_SEED"];
    const seed = Number(raw ?? 20261205);
    if (!Number.isSafeInteger(seed)) throw new Error(`OIDC_GUARD_MUTATION_SEED must be a whole number, got '${raw}'`);
    return seed;
}

/** mulberry32: small, seeded, the same sequence on every machine. */
export function generator(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const REPLACEMENTS: readonly Json[] = [
    null, 0, -1, 1e308, 3.5, true, "", "*", "?", "${aws:username}", "a".repeat(3000), [], {}, [null], { "": 1 },
    "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc", "api.pulumi.com/oidc:sub", "pulumi:environments:org:*",
    "StringLike", "Deny", "sts:AssumeRoleWithWebIdentity", { StringEquals: { "api.pulumi.com/oidc:aud": null } },
    "\ud800", "__proto__", "constructor", { constructor: 1 }, ["aws:acme", "*"], "\n\r\t", "]]>", "|x|", "```", "::error::x",
    "\n  ::add-mask::y",
];
/** Keys a renamed member takes: names every JavaScript object has, and the marker. */
const KEYS: readonly string[] = ["__proto__", "constructor", "toString", "hasOwnProperty", "", MARK];

interface Slot {
    parent: Json[] | { [key: string]: Json };
    key: string | number;
}

/** Every place in `value` a mutation can write to, parents before children. */
function slots(value: Json, out: Slot[] = []): Slot[] {
    if (Array.isArray(value)) {
        value.forEach((v, i) => {
            out.push({ parent: value, key: i });
            slots(v, out);
        });
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            out.push({ parent: value, key: k });
            slots(v, out);
        }
    }
    return out;
}

const read = (s: Slot): Json => (s.parent as Record<string | number, Json>)[s.key]!;
/** An own member, as JSON.parse makes it (an assignment to `__proto__` would set the prototype instead). */
const write = (s: Slot, v: Json): void => {
    Object.defineProperty(s.parent, s.key, { value: v, enumerable: true, writable: true, configurable: true });
};

/**
 * Up to three mutations of `value` (in place; none in a quarter of the cases, whose shape stays valid): a value
 * replaced, dropped, copied from elsewhere, repeated, retyped or upper-cased, or a member renamed; a JSON string that
 * holds an object (a trust policy in a stack export) is mutated inside. Then the marker goes into one string value
 * (or a new member): in place of the value, after it, or only the marker's markup after it.
 */
export function mutate(value: Json, random: () => number): Json {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const count = random() < 0.25 ? 0 : 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
        const all = slots(value);
        if (all.length === 0) break;
        const slot = pick(all);
        const current = read(slot);
        const r = random();
        if (typeof current === "string" && current.trimStart().startsWith("{") && r < 0.5) {
            try {
                write(slot, JSON.stringify(mutate(JSON.parse(current) as Json, random)));
                continue;
            } catch {
                // Not JSON after all: mutated below as a string.
            }
        }
        if (r < 0.5) write(slot, structuredClone(pick(REPLACEMENTS)));
        else if (r < 0.6) {
            if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
            else delete slot.parent[slot.key as string];
        } else if (r < 0.7 && !Array.isArray(slot.parent)) {
            delete slot.parent[slot.key as string];
            write({ parent: slot.parent, key: pick(KEYS) }, current);
        } else if (r < 0.8) write(slot, structuredClone(read(pick(all))));
        else if (r < 0.9) write(slot, Array.isArray(current) ? [...current, ...current.slice(0, 3)] : [current, current]);
        else write(slot, typeof current === "string" ? current.toUpperCase() : JSON.stringify(current));
    }
    const strings = slots(value).filter((s) => typeof read(s) === "string");
    if (strings.length > 0) {
        const s = pick(strings);
        const r = random();
        // The marker in place of a value, after it, or only its markup after it (no control character: a value that
        // is then malformed for other reasons than control characters).
        write(s, r < 1 / 3 ? MARK : r < 2 / 3 ? `${read(s) as string}${MARK}` : `${read(s) as string} <b>&amp;</b>`);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        write({ parent: value, key: "Sid" }, MARK);
    }
    return value;
}

/** Texts a string value takes in {@link mutateStrings}: each is hostile to some medium a report is written in. */
const STRING_REPLACEMENTS: readonly string[] = [
    "", "a".repeat(3000), "\ud800", "\n  ::add-mask::y", "::error::x", "```", "|x|", "]]>", "<!--", "*_[x](javascript:x)_*",
    "\\", "\r\n", "\u2028", "\u0085",
];

/**
 * One to three string values of `value` (not its keys) changed, the shape left as it is, so that a reader that
 * checks the shape (a result file's schema) still takes it and the values reach the output: each becomes the marker,
 * has the marker or its markup appended, or has a text hostile to some medium appended. Identifier-like values
 * (lower-case words joined by hyphens: verdicts, statuses, rule and check ids) are left alone, since a schema names
 * each one it allows. In place.
 */
export function mutateStrings(value: Json, random: () => number): Json {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const strings = slots(value).filter((s) => typeof read(s) === "string" && !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(read(s) as string));
    for (let n = 1 + Math.floor(random() * 3); n > 0 && strings.length > 0; n--) {
        const s = pick(strings);
        const v = read(s) as string;
        const r = random();
        write(s, r < 0.25 ? MARK : r < 0.5 ? `${v}${MARK}` : r < 0.65 ? `${v} <b>&amp;</b>` : `${v}${pick(STRING_REPLACEMENTS)}`);
    }
    return value;
}
