/**
 * Property tests of the automata against independent references: glob membership against JavaScript regular
 * expressions, witnesses against a brute-force search over short strings, and answers that must not depend on what
 * earlier questions explored (a witness after candidate walks, the first accepted candidate against one membership
 * test per candidate). Patterns come from a small alphabet so that prefixes, stars in a row and shared heads are
 * common: the cases the lazy DFA's state sets, its row filling and the product's row filling have to get right.
 * Confinement (how many keys a language's members have) is compared with its definition over the whole product.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Alphabet, Budget, Decider, LazyDfa, Product, and, finite, leaf, not, noteLiteralHeads, or, rx, type Automaton, type Lang, type Rx } from "./automata.js";

const CHARS = ["a", "b", ":", "/"];
const patternArb = fc.array(fc.constantFrom(...CHARS, "*", "?"), { maxLength: 7 }).map((cs) => cs.join(""));
const patternsArb = fc.array(patternArb, { minLength: 1, maxLength: 5 });
/** Strings over the pattern characters and one character no pattern names (read as OTHER). */
const stringArb = fc.array(fc.constantFrom(...CHARS, "é"), { maxLength: 9 }).map((cs) => cs.join(""));

function glob(alphabet: Alphabet, patterns: readonly string[]): Lang {
    const alts = patterns.map((p) =>
        rx.seq(...Array.from(p, (c) => (c === "*" ? rx.star(rx.any) : c === "?" ? rx.any : rx.lit(c, alphabet)))),
    );
    return leaf(new LazyDfa(rx.alt(...alts), alphabet.width));
}

/** The reference: a glob as a regular expression over code points (`*` any run, `?` any one character). */
function regex(patterns: readonly string[]): RegExp {
    const one = (p: string): string =>
        Array.from(p, (c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[/]/g, "\\/"))).join("");
    return new RegExp(`^(?:${patterns.map(one).join("|")})$`, "su");
}

function fresh(): { a: Alphabet; d: Decider } {
    const a = new Alphabet();
    return { a, d: new Decider(a, new Budget(200_000)) };
}

/** Every string over `chars` of length at most `n`, shortest first. */
function allStrings(chars: readonly string[], n: number): string[] {
    const out: string[] = [""];
    let level = [""];
    for (let i = 0; i < n; i++) {
        level = level.flatMap((s) => chars.map((c) => s + c));
        out.push(...level);
    }
    return out;
}
const SHORT = allStrings([...CHARS, "é"], 4);

/** A regular expression over a, b and c with its JavaScript equivalent: stars of different parts, in a row and nested. */
type Tree = { rx: (a: Alphabet) => Rx; src: string };
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constantFrom("a", "b", "c").map((c): Tree => ({ rx: (a) => rx.lit(c, a), src: c })),
        fc.constant<Tree>({ rx: () => rx.eps, src: "(?:)" }),
        fc.constant<Tree>({ rx: () => rx.set([0x61 - 0x20, 0x62 - 0x20]), src: "[ab]" }),
        fc.array(tie("tree"), { minLength: 1, maxLength: 3 }).map((xs): Tree => ({ rx: (a) => rx.seq(...xs.map((x) => x.rx(a))), src: xs.map((x) => `(?:${x.src})`).join("") })),
        fc.array(tie("tree"), { minLength: 1, maxLength: 3 }).map((xs): Tree => ({ rx: (a) => rx.alt(...xs.map((x) => x.rx(a))), src: xs.map((x) => `(?:${x.src})`).join("|") })),
        tie("tree").map((x): Tree => ({ rx: (a) => rx.star(x.rx(a)), src: `(?:${x.src})*` })),
        tie("tree").map((x): Tree => ({ rx: (a) => rx.plus(x.rx(a)), src: `(?:${x.src})+` })),
    ),
})).tree;

describe("automata against references", () => {
    it("any regular expression (stars in a row, nested, of different parts) holds exactly what JavaScript's matches", () => {
        const strings = allStrings(["a", "b", "c"], 5);
        fc.assert(
            fc.property(treeArb, (t) => {
                const a = new Alphabet();
                const d = new LazyDfa(t.rx(a), a.width);
                const r = new RegExp(`^(?:${t.src})$`);
                for (const s of strings) assert.equal(d.matches(a.symbols(s)), r.test(s), `${t.src} on ${JSON.stringify(s)}`);
            }),
            { numRuns: 300 },
        );
    });

    it("a union of globs holds exactly the strings its regular expression matches", () => {
        fc.assert(
            fc.property(patternsArb, fc.array(stringArb, { maxLength: 20 }), (patterns, strings) => {
                const { a, d } = fresh();
                const g = glob(a, patterns);
                const r = regex(patterns);
                for (const s of [...strings, ...patterns.map((p) => p.replace(/[*?]/g, "a"))]) {
                    assert.equal(d.contains(g, s), r.test(s), `${JSON.stringify(patterns)} on ${JSON.stringify(s)}`);
                }
            }),
            { numRuns: 300 },
        );
    });

    it("a difference's witness is a member, and no member is shorter", () => {
        fc.assert(
            fc.property(patternsArb, patternsArb, (xs, ys) => {
                const { a, d } = fresh();
                const w = d.witness(and(glob(a, xs), not(glob(a, ys))));
                const rx1 = regex(xs);
                const rx2 = regex(ys);
                const shortest = SHORT.find((s) => rx1.test(s) && !rx2.test(s));
                if (w !== null) {
                    assert.ok(rx1.test(w) && !rx2.test(w), `witness ${JSON.stringify(w)} is not a member`);
                }
                if (shortest !== undefined) {
                    assert.notEqual(w, null, `${JSON.stringify(shortest)} is a member, but no witness was found`);
                    assert.equal(Array.from(w!).length, Array.from(shortest).length, `witness ${JSON.stringify(w)} is longer than ${JSON.stringify(shortest)}`);
                }
            }),
            { numRuns: 300 },
        );
    });

    it("prefixCompletedBy finds a shortest string after which enough endings complete members, and only one", () => {
        fc.assert(
            fc.property(patternsArb, patternsArb, fc.uniqueArray(stringArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (xs, ys, endings, least, listed) => {
                const { a, d } = fresh();
                const rx1 = regex(xs);
                const rx2 = regex(ys);
                const member = (w: string): boolean => rx1.test(w) && !rx2.test(w);
                // The language as an automaton (a difference of globs), or as the explicit list of its short members.
                const l = listed ? finite(SHORT.filter(member)) : and(glob(a, xs), not(glob(a, ys)));
                const inL = listed ? (w: string): boolean => SHORT.includes(w) && member(w) : member;
                const enough = (w: string): boolean => endings.filter((e) => inL(w + e)).length >= least;
                const found = d.prefixCompletedBy(l, endings, least);
                if (found !== null) assert.ok(enough(found), `${JSON.stringify(found)} is not completed by ${least} of ${JSON.stringify(endings)}`);
                const shortest = SHORT.find(enough);
                if (shortest !== undefined) {
                    assert.notEqual(found, null, `${JSON.stringify(shortest)} is completed by ${least}, but none was found`);
                    assert.equal(Array.from(found!).length, Array.from(shortest).length, `${JSON.stringify(found)} is longer than ${JSON.stringify(shortest)}`);
                }
            }),
            { numRuns: 300 },
        );
    });

    it("a witness does not depend on what earlier questions explored, and pick takes the first member in list order", () => {
        fc.assert(
            fc.property(patternsArb, patternsArb, fc.array(stringArb, { minLength: 17, maxLength: 40 }), (xs, ys, candidates) => {
                const lang = (a: Alphabet): Lang => or(and(glob(a, xs), not(glob(a, ys))), and(glob(a, ys), not(glob(a, xs))));
                const walked = fresh();
                const l = lang(walked.a);
                // More than 16 candidates: walked through the product, sharing prefixes, making states on the way.
                const picked = walked.d.pick(l, candidates);
                const afterWalks = walked.d.witness(l);
                const untouched = fresh();
                const m = lang(untouched.a);
                const expected = candidates.find((c) => untouched.d.contains(m, c)) ?? untouched.d.witness(m);
                assert.equal(picked, expected);
                assert.equal(afterWalks, untouched.d.witness(m));
            }),
            { numRuns: 300 },
        );
    });

    it("anyPrefixLive answers as isPrefixLive asked of each prefix, with heads shared, sorted or not, on any Lang", () => {
        fc.assert(
            fc.property(patternsArb, patternsArb, fc.array(stringArb, { maxLength: 12 }), fc.boolean(), (p1, p2, prefixes, sorted) => {
                const { a, d } = fresh();
                // Prefixes that start alike, as a condition's values do: each also extended by what follows it.
                const list = prefixes.flatMap((x) => [x, `${x}a`, `${x}:b`]);
                if (sorted) list.sort();
                const g1 = glob(a, p1);
                for (const l of [g1, and(g1, not(glob(a, p2))), or(g1, glob(a, p2))]) {
                    assert.equal(d.anyPrefixLive(l, list), list.some((x) => d.isPrefixLive(l, x)), JSON.stringify({ p1, p2, list, k: l.k }));
                }
            }),
            { numRuns: 400 },
        );
    });
    it("confinement answers what the co-reachable key states of the whole product answer, whatever was explored first or noted of the patterns' heads", () => {
        const dfa = (a: Alphabet, ps: readonly string[]): Automaton => (glob(a, ps) as { k: "leaf"; a: Automaton }).a;
        fc.assert(
            fc.property(
                patternsArb,
                fc.option(patternsArb, { nil: undefined }),
                fc.array(fc.record({ form: patternsArb, key: patternsArb }), { minLength: 1, maxLength: 3 }),
                fc.constantFrom("nothing", "emptiness", "witness"),
                fc.boolean(),
                (xs, denied, levels, first, heads) => {
                    const { a, d } = fresh();
                    const allowed = glob(a, xs);
                    // The condition compiler notes each value's text before its first wildcard: the keys may be read
                    // off those heads instead of the product.
                    if (heads) noteLiteralHeads((allowed as { k: "leaf"; a: Automaton }).a, () => xs.map((x) => x.replace(/[*?].*$/, "")));
                    const scoped = denied ? and(allowed, not(glob(a, denied))) : allowed;
                    const forms = levels.map((l) => ({ form: glob(a, l.form), key: glob(a, l.key) }));
                    if (first === "emptiness") d.isEmpty(scoped);
                    if (first === "witness") d.witness(scoped);
                    const keyed = d.confinement(scoped, forms).keyed;
                    // The definition: explore everything, then the states that reach a key end followed by a member in
                    // the form, through states where the key is alive; a loop (or OTHER) among them from the start.
                    const ref = new Product(scoped, a, new Budget(200_000), levels.flatMap((l) => [dfa(a, l.form), dfa(a, l.key)]));
                    const expected = levels.map((_, i) => {
                        const live = ref.coReach((st) => ref.accepting(st) && ref.passengerAccepting(st, 2 * i));
                        const keyLive = ref.coReach(
                            (st) => live[st] === 1 && ref.passengerAccepting(st, 2 * i + 1),
                            (st) => live[st] === 1 && !ref.passengerDead(st, 2 * i + 1),
                        );
                        return ref.unbounded(keyLive);
                    });
                    assert.deepEqual(keyed, expected, JSON.stringify({ xs, denied, levels, first, heads }));
                },
            ),
            { numRuns: 500 },
        );
    });
    it("the keys of members, asked for several key languages at once, are infinite exactly when their prefixes in each key language are", () => {
        fc.assert(
            fc.property(patternsArb, fc.option(patternsArb, { nil: undefined }), fc.array(patternsArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (xs, denied, keys, emptyFirst) => {
                const { a, d } = fresh();
                const members = denied ? and(glob(a, xs), not(glob(a, denied))) : glob(a, xs);
                if (emptyFirst) d.isEmpty(members);
                const got = d.keysInfiniteEach(members, keys.map((k) => glob(a, k)));
                // The definition: the language of the members' prefixes, cut to each key language, is infinite.
                const whole = new Product(members, a, new Budget(200_000));
                const expected = keys.map((k) =>
                    whole.isEmpty() ? false : new Product(and(leaf(whole.prefixes()), glob(a, k)), a, new Budget(200_000)).isInfinite(),
                );
                assert.deepEqual(got, expected, JSON.stringify({ xs, denied, keys, emptyFirst }));
            }),
            { numRuns: 500 },
        );
    });

    it("listing gives every member once, shorter first, or null exactly when there are more than the cap or infinitely many", () => {
        const starFree = (t: Tree): boolean => !t.src.includes("*") && !t.src.includes("+");
        const strings = allStrings(["a", "b", "c"], 7);
        fc.assert(
            fc.property(treeArb, fc.option(patternsArb, { nil: undefined }), fc.constantFrom(0, 1, 2, 3, 5, 8, 40), (t, denied, cap) => {
                const a = new Alphabet();
                const lang = (): Lang => {
                    const l = leaf(new LazyDfa(t.rx(a), a.width));
                    return denied ? and(l, not(glob(a, denied))) : l;
                };
                const listed = new Product(lang(), a, new Budget(200_000)).enumerate(cap);
                // The same question of a product explored whole first, the way listing used to begin.
                const explored = new Product(lang(), a, new Budget(200_000));
                const infinite = explored.isInfinite();
                const context = JSON.stringify({ src: t.src, denied, cap });
                assert.deepEqual(explored.enumerate(cap), listed, context);
                if (starFree(t)) assert.equal(infinite, false, context);
                const r = new RegExp(`^(?:${t.src})$`);
                const deniedRx = denied ? regex(denied) : null;
                const member = (s: string): boolean => r.test(s) && !(deniedRx?.test(s) ?? false);
                // Without a star, each letter of the expression adds at most one character: when there are at most 7,
                // the members are exactly those of the strings up to 7 characters long.
                const exact = starFree(t) && (t.src.match(/[abc]/g) ?? []).length <= 7;
                const members = strings.filter(member);
                if (listed === null) {
                    if (exact) assert.ok(members.length > cap, context);
                    return;
                }
                assert.equal(infinite, false, context);
                assert.ok(listed.length <= cap, context);
                assert.equal(new Set(listed).size, listed.length, context);
                for (const s of listed) assert.ok(member(s), `${JSON.stringify(s)} is not a member: ${context}`);
                for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1]!.length <= listed[i]!.length, `shorter first: ${context}`);
                for (const s of members) assert.ok(listed.includes(s), `${JSON.stringify(s)} is missing: ${context}`);
                if (exact) assert.equal(listed.length, members.length, context);
            }),
            { numRuns: 500 },
        );
    });
});
