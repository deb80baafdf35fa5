import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Alphabet, BoundedCache, Budget, ComplexityError, Decider, LazyDfa, OTHER, Product, and, finite, leaf, noteLiteralHeads, not, or, rx, sharedPatternDfa, type Lang } from "./automata.js";

function glob(alphabet: Alphabet, ...patterns: string[]): Lang {
    const alts = patterns.map((p) =>
        rx.seq(...Array.from(p, (c) => (c === "*" ? rx.star(rx.any) : c === "?" ? rx.any : rx.lit(c, alphabet)))),
    );
    return leaf(new LazyDfa(rx.alt(...alts), alphabet.width));
}

/** A time budget that ran out before it was made, and how many steps were ticked against it. */
function spentBudget(): { budget: Budget; ticks: () => number } {
    const budget = new Budget(Infinity, 2_000, Date.now() - 1);
    let ticks = 0;
    const tick = budget.tick.bind(budget);
    budget.tick = () => {
        ticks++;
        tick();
    };
    return { budget, ticks: () => ticks };
}

function decider(limit = 100_000): { a: Alphabet; d: Decider } {
    const a = new Alphabet();
    return { a, d: new Decider(a, new Budget(limit)) };
}

describe("automata", () => {
    it("decides membership of globs: * spans separators, ? is one character", () => {
        const { a, d } = decider();
        const g = glob(a, "pulumi:*:env:p?/x");
        assert.equal(d.contains(g, "pulumi:a:b:env:pq/x"), true);
        assert.equal(d.contains(g, "pulumi::env:pq/x"), true);
        assert.equal(d.contains(g, "pulumi:a:env:p/x"), false);
        assert.equal(d.contains(g, "pulumi:a:env:pqq/x"), false);
    });

    it("finds a shortest readable witness of a difference, or none for inclusion", () => {
        const { a, d } = decider();
        const wide = glob(a, "acme*");
        const narrow = glob(a, "acme", "acme-*");
        assert.equal(d.witness(and(wide, not(narrow))), "acmea");
        assert.equal(d.witness(and(narrow, not(wide))), null);
        assert.equal(d.isEmpty(and(glob(a, "a*b"), glob(a, "*c"))), true);
    });

    it("keeps literal sets explicit and filters them by membership", () => {
        const { a, d } = decider();
        const s = d.simplify(and(finite(["acme", "aws:acme", "other"]), glob(a, "*acme")));
        assert.deepEqual(s, { k: "finite", items: ["acme", "aws:acme"] });
        assert.deepEqual(d.enumerate(or(finite(["b"]), finite(["a", "b"])), 10), ["a", "b"]);
    });

    it("tells finite from infinite languages, counting unnamed characters as infinitely many", () => {
        const { a, d } = decider();
        assert.equal(d.isInfinite(glob(a, "x?")), true); // ? matches unboundedly many characters
        assert.equal(d.isInfinite(finite(["x", "y"])), false);
        const ascii = leaf(new LazyDfa(rx.seq(rx.lit("x", a), rx.set([0x61 - 0x20, 0x62 - 0x20])), a.width));
        assert.equal(d.isInfinite(ascii), false);
        assert.deepEqual(d.enumerate(ascii, 5), ["xa", "xb"]);
        assert.equal(d.enumerate(glob(a, "x*"), 5), null);
    });

    it("gives up listing a large finite language after about the cap's members, without exploring it whole", () => {
        const { a } = decider();
        // 150 Deployments-like stacks, four operations each: finite, with far more members than the cap.
        const word = (w: string) => rx.seq(...Array.from(w, (c) => rx.lit(c, a)));
        const operations = rx.alt(...["up", "pre", "ref", "des"].map(word));
        const stacks = Array.from({ length: 150 }, (_, i) => rx.seq(word(`p:svc-${i}:stack:prod-${i}:op:`), operations));
        const lang = (): Lang => leaf(new LazyDfa(rx.alt(...stacks), a.width));
        const whole = new Product(lang(), a, new Budget(1_000_000));
        assert.equal(whole.isInfinite(), false);
        const listed = new Product(lang(), a, new Budget(1_000_000));
        assert.equal(listed.enumerate(16), null);
        assert.ok(listed.size * 10 < whole.size, `listing made ${listed.size} states, the whole product has ${whole.size}`);
        // Within the cap, every member, shorter first; and the same list from the product explored whole.
        assert.equal(new Product(lang(), a, new Budget(1_000_000)).enumerate(2_000)!.length, 600);
        assert.deepEqual(new Product(lang(), a, new Budget(1_000_000)).enumerate(2_000), whole.enumerate(2_000));
    });

    it("reads finitely many keys off the patterns' literal heads, without exploring the product", () => {
        const stacks = (a: Alphabet): Lang => glob(a, ...Array.from({ length: 60 }, (_, i) => `p:svc-${i}:stack:prod-${i}:op:*`));
        // Keys as the grammar writes them: names without a colon, so a key ends at its colon.
        const key = (a: Alphabet): Lang => {
            const word = (w: string) => rx.seq(...Array.from(w, (c) => rx.lit(c, a)));
            const name = rx.plus(rx.set(Array.from("abcdefghijklmnopqrstuvwxyz0123456789-", (c) => c.charCodeAt(0) - 0x20)));
            return leaf(new LazyDfa(rx.seq(word("p:"), name, word(":stack:"), name, word(":")), a.width));
        };
        const keyed = (heads: boolean): { keyed: boolean[]; states: number } => {
            const { a, d } = decider(1_000_000);
            const members = stacks(a);
            if (heads) noteLiteralHeads((members as { k: "leaf"; a: LazyDfa }).a, () => Array.from({ length: 60 }, (_, i) => `p:svc-${i}:stack:prod-${i}:op:`));
            const result = d.confinement(members, [{ form: glob(a, "*"), key: key(a) }]);
            return { keyed: result.keyed, states: d.product(members).size };
        };
        const searched = keyed(false);
        const read = keyed(true);
        assert.deepEqual(read.keyed, [false]);
        assert.deepEqual(searched.keyed, [false]);
        assert.ok(read.states < 5 && searched.states > 1_000, `states: ${read.states} read off the heads, ${searched.states} searched`);
        // A head that stops before its key ends (a wildcard in the stack's name) leaves the question to the product.
        const { a, d } = decider(1_000_000);
        const open = glob(a, "p:svc-1:stack:*:op:x");
        noteLiteralHeads((open as { k: "leaf"; a: LazyDfa }).a, () => ["p:svc-1:stack:"]);
        assert.deepEqual(d.confinement(open, [{ form: glob(a, "*"), key: key(a) }]).keyed, [true]);
    });

    it("decides whether members have finitely many keys (prefixes in a key shape)", () => {
        const { a, d } = decider();
        const key = glob(a, "k:?/"); // keys: k:<one char>/
        assert.equal(d.keysInfinite(glob(a, "k:a/*"), key), false);
        assert.equal(d.keysInfinite(glob(a, "k:?/*"), key), true);
        assert.equal(d.keysInfinite(finite(["k:a/x", "k:b/y"]), key), false);
    });

    it("compiles alternatives that start alike as a trie: a state of a union of literals holds one of them", () => {
        const { a, d } = decider();
        const values = Array.from({ length: 2000 }, (_, i) => `pulumi:environments:org:acme:env:p${i}/e`);
        const union = new LazyDfa(rx.altOf(values.map((v) => rx.lit(v, a))), a.width);
        const l = leaf(union);
        assert.equal(d.contains(l, values[1234]!), true);
        assert.equal(d.contains(l, "pulumi:environments:org:acme:env:p2000/e"), false);
        assert.equal(d.contains(l, "pulumi:environments:org:acme:env:p12"), false);
        assert.equal(d.isInfinite(l), false);
        // One alternative per start node, as Thompson's construction builds them, put all 2,000 in each state of the
        // shared prefix; a trie node and the accepting node are at most two.
        assert.ok(union.largestStateSet <= 2, `largest state set ${union.largestStateSet}`);
        // What follows the shared part (a star, a case-insensitive letter) is built from the trie node it ends at.
        const mixed = leaf(
            new LazyDfa(rx.alt(rx.seq(rx.lit("ab", a), rx.star(rx.any)), rx.lit("abc", a, true), rx.seq(rx.lit("a", a), rx.any, rx.lit("d", a))), a.width),
        );
        for (const [s, member] of [["ab", true], ["abzz", true], ["aBC", true], ["Abc", true], ["aBe", false], ["axd", true], ["axe", false], ["a", false]] as const) {
            assert.equal(d.contains(mixed, s), member, s);
        }
        // A finite set's own membership test: a long list is looked up, not searched.
        const big = finite(values);
        assert.equal(d.contains(big, values[1999]!), true);
        assert.equal(d.contains(big, "pulumi:environments:org:acme:env:p1999"), false);
    });

    it("orders the members of a finite set readably: shorter first, counted in characters, then by symbol", () => {
        const { d } = decider();
        // é and 😀 are characters no automaton names (both OTHER, so equal): the list's order is kept between them.
        assert.deepEqual(d.enumerate(finite(["zz", "😀", "é", "b", "a"]), 10), ["a", "b", "😀", "é", "zz"]);
        assert.equal(d.witness(finite(["zz", "😀", "é", "b"])), "b");
        assert.equal(d.witness(finite(["zz", "😀"])), "😀"); // one character, though two UTF-16 code units
        const many = Array.from({ length: 20_000 }, (_, i) => `aws:o${20_000 - i}`);
        assert.equal(d.witness(finite(many)), "aws:o1");
    });

    it("keeps a pattern's automaton for the process, but not a long list's (caches bounded by count hold no 6 MB keys)", () => {
        const build = (values: readonly string[]) => (a: Alphabet) => rx.altOf(values.map((v) => rx.lit(v, a)));
        const few = ["aws:acme", "acme"];
        const once = sharedPatternDfa(`test:${JSON.stringify(few)}`, few, build(few));
        assert.ok(once !== null && once.sharedId !== null);
        assert.equal(sharedPatternDfa(`test:${JSON.stringify(few)}`, few, build(few)), once);
        const many = Array.from({ length: 2_000 }, (_, i) => `aws:org-${i}`); // 28 KB as a key
        const first = sharedPatternDfa(`test:${JSON.stringify(many)}`, many, build(many));
        const second = sharedPatternDfa(`test:${JSON.stringify(many)}`, many, build(many));
        assert.ok(first !== null && second !== null && first !== second);
        // Not kept, but each has an id of its own, so an analysis finds its decisions about it again.
        assert.ok(first.sharedId !== null && second.sharedId !== null && first.sharedId !== second.sharedId);
        const { d } = decider();
        assert.equal(d.contains(leaf(second), "aws:org-1999"), true);
        assert.equal(d.contains(leaf(second), "aws:org-2000"), false);
        assert.equal(d.isEmpty(and(finite(many), not(leaf(first)))), true);
    });

    it("lists a shared language once per process, unless the list is long: a later analysis explores no product for it", () => {
        const build = (values: readonly string[]) => (a: Alphabet) => rx.altOf(values.map((v) => rx.lit(v, a)));
        const shared = (values: readonly string[]): Lang => {
            const dfa = sharedPatternDfa(`test:enumerate:${JSON.stringify(values)}`, values, build(values));
            assert.ok(dfa !== null && dfa.sharedId !== null);
            return leaf(dfa);
        };
        const ops = ["op:update", "op:destroy", "op:preview"];
        const first = decider();
        const listed = first.d.enumerate(shared(ops), 256);
        // Readable order: shorter first, then by character.
        assert.deepEqual(listed, ["op:update", "op:destroy", "op:preview"]);
        assert.ok(first.d.budget.used > 0, "the first listing explores the product");
        listed.push("mutated by a caller");
        // A new analysis (its own decider and budget) asks again: the answer is remembered, and a copy.
        const second = decider();
        assert.deepEqual(second.d.enumerate(shared(ops), 256), listed.slice(0, 3));
        assert.equal(second.d.budget.used, 0);
        // More members than asked for (null) is an answer too, and remembered as one.
        assert.equal(decider().d.enumerate(shared(ops), 2), null);
        const third = decider();
        assert.equal(third.d.enumerate(shared(ops), 2), null);
        assert.equal(third.d.budget.used, 0);
        // 300 members of 40 characters (12 KB) are kept by the analysis only: the next one explores again.
        const long = Array.from({ length: 300 }, (_, i) => `pulumi:deploy:org:acme:op:${String(i).padStart(14, "0")}`);
        const a1 = decider();
        const l1 = a1.d.enumerate(shared(long), 512);
        assert.equal(l1?.length, 300);
        const a2 = decider();
        assert.deepEqual(a2.d.enumerate(shared(long), 512), l1);
        assert.ok(a2.d.budget.used > 0, "a long list is not kept for the process");
    });

    it("handles characters beyond ASCII as their own symbols", () => {
        const { a, d } = decider();
        const g = glob(a, "é*");
        assert.equal(d.contains(g, "éa"), true);
        assert.equal(d.contains(g, "ea"), false);
        const w = d.witness(and(glob(a, "?"), not(finite(["é"]))));
        assert.ok(w !== null && w !== "é" && Array.from(w).length === 1);
    });

    it("reads the clock while it builds an automaton: 150,000 values fail closed without being built first", () => {
        const a = new Alphabet();
        const values = Array.from({ length: 150_000 }, (_, i) => `pulumi:environments:org:acme:env:p${i}/*`);
        const union = rx.altOf(values.map((v) => rx.seq(rx.lit(v.slice(0, -1), a), rx.star(rx.any))));
        // A budget whose time ran out before it was made (an analysis's budget counts from the call, so reading a
        // large document spends it too): the build stops at its first reading of the clock, after 64 steps.
        const spent = spentBudget();
        assert.throws(() => new LazyDfa(union, a.width, OTHER, spent.budget), (e: unknown) => e instanceof ComplexityError && e.timeLimitMs === 2_000);
        assert.equal(spent.ticks(), 64);
        // With time left it is built, and decides.
        const built = new LazyDfa(union, a.width, OTHER, new Budget(Infinity, 60_000));
        assert.equal(built.matches(a.symbols("pulumi:environments:org:acme:env:p149999/x")), true);
    });

    it("reads the clock while it tries a condition's values as prefixes, and tries a dead head once", () => {
        const a = new Alphabet();
        const deploy = glob(a, "pulumi:deploy:*");
        const values = Array.from({ length: 150_000 }, (_, i) => `pulumi:environments:org:acme:env:p${i}/prod`);
        const spent = spentBudget();
        assert.throws(() => new Decider(a, spent.budget).anyPrefixLive(deploy, values), (e: unknown) => e instanceof ComplexityError);
        assert.equal(spent.ticks(), 64);
        // With time left: no value is live, and the automaton is run once (`pulumi:e` dies; every value starts so).
        const d = new Decider(a, new Budget(Infinity, 60_000));
        const leafOf = deploy as { k: "leaf"; a: LazyDfa };
        let steps = 0;
        const step = leafOf.a.step.bind(leafOf.a);
        leafOf.a.step = (st: number, sym: number) => {
            steps++;
            return step(st, sym);
        };
        assert.equal(d.anyPrefixLive(deploy, values), false);
        assert.equal(steps, "pulumi:e".length);
        assert.equal(d.anyPrefixLive(deploy, [...values, "pulumi:deploy:org:acme"]), true);
    });

    it("goes down one pattern to find a member or a loop, instead of making every state nearer the start first", () => {
        // 60 patterns that part at their third character and run 40 more before their `*`: a breadth-first search
        // makes about 60 x 42 states before it reaches any pattern's end; a depth-first one, one pattern's.
        const patterns = Array.from({ length: 60 }, (_, i) => `w${i}:${"abcdefghij".repeat(4)}*`);
        const lang = (a: Alphabet): Lang => and(glob(a, ...patterns), not(glob(a, "zz*")));
        const empty = decider(400);
        assert.equal(empty.d.isEmpty(lang(empty.a)), false);
        const infinite = decider(400);
        assert.equal(infinite.d.isInfinite(lang(infinite.a)), true);
        // The witness is still the shortest, readable member, found breadth-first (this one may make every state).
        const shortest = decider();
        assert.equal(shortest.d.witness(lang(shortest.a)), `w0:${"abcdefghij".repeat(4)}`);
    });

    it("walks edges backwards to every state that reaches a target, the dead state's predecessors too", () => {
        const a = new Alphabet();
        const p = new Product(and(glob(a, "ab"), not(glob(a, "zz"))), a, new Budget(1_000));
        const live = p.live();
        // Every state of "ab" steps to the dead state on some character; only "" and "a" reach the member "ab".
        const reachesDead = p.coReach((s) => live[s] === 0);
        assert.equal([...reachesDead].filter((m) => m === 1).length, p.size);
        assert.equal([...live].filter((m) => m === 1).length, 3); // "", "a", "ab"
        assert.equal(p.coReach((s) => p.accepting(s))[0], 1);
    });

    it("excludes several Denies' languages through one union, which says where every continuation is excluded", () => {
        const { a, d } = decider();
        const denies = [not(glob(a, "ab*")), not(glob(a, "ac*")), not(glob(a, "a?d"))];
        assert.equal(d.witness(and(glob(a, "a*"), ...denies)), "a");
        assert.equal(d.isEmpty(and(glob(a, "a?"), ...denies)), false); // "aa", "ae", ...
        assert.equal(d.enumerate(and(glob(a, "ab", "ac", "ad", "bd"), ...denies), 10)!.join(","), "ad,bd");
        // Every continuation of "x" is excluded: the union is universal there, so the product ends (no state past it).
        const u = new Product(or(glob(a, "x*"), glob(a, "y")), a, new Budget(100));
        assert.equal(u.sink(u.step(u.start, "x".charCodeAt(0) - 0x20)), "universal");
        assert.equal(u.sink(u.step(u.start, "z".charCodeAt(0) - 0x20)), "dead");
        assert.equal(u.sink(u.start), null);
        assert.equal(d.isEmpty(and(glob(a, "x*"), not(glob(a, "x*")), not(glob(a, "q")))), true);
    });

    it("fails closed with ComplexityError when the state budget runs out", () => {
        const { a, d } = decider(50);
        const patterns = Array.from({ length: 40 }, (_, i) => `*a${"?".repeat(i % 7)}b*`);
        // Empty (a language less itself), and the automaton must remember where each of the last 7 `a`s was: deciding
        // it explores the whole product, far past 50 states.
        assert.throws(() => d.isEmpty(and(glob(a, ...patterns), not(glob(a, ...patterns)))), ComplexityError);
    });

    it("runs an optional search within an allowance of states: past it the search gives up and the analysis goes on", () => {
        const patterns = Array.from({ length: 40 }, (_, i) => `*a${"?".repeat(i % 7)}b*`);
        const hard = (a: Alphabet): Lang => and(glob(a, ...patterns), not(glob(a, ...patterns)));
        // The allowance ran out: undefined, the states made counted as used, the limit in force again afterwards.
        const { a, d } = decider(10_000);
        assert.equal(d.budget.within(100, () => d.isEmpty(hard(a))), undefined);
        assert.equal(d.budget.used, 101);
        assert.equal(d.budget.within(100, () => d.isEmpty(glob(a, "x*"))), false);
        assert.throws(() => d.isEmpty(hard(a)), (e: unknown) => e instanceof ComplexityError && e.limit === 10_000);
        // Never more than half of what is left: 1,000 left, an allowance of 5,000 stops at 500, and the
        // budget is not exhausted by the search.
        const half = decider(2_000);
        half.d.budget.take(1_000);
        assert.equal(half.d.budget.within(5_000, () => half.d.isEmpty(hard(half.a))), undefined);
        assert.equal(half.d.budget.used, 1_501);
        // At most half of the time left: a search that would never end gives up after about half, and the budget's
        // own time is in force again afterwards.
        const timed = new Budget(Infinity, 2_000, Date.now() + 1_000);
        const started = Date.now();
        assert.equal(
            timed.within(100, () => {
                for (;;) timed.tick();
            }),
            undefined,
        );
        const took = Date.now() - started;
        assert.ok(took >= 400 && took < 950, `gave up after ${took} ms of 1,000`);
        assert.doesNotThrow(() => {
            for (let i = 0; i < 640; i++) timed.tick();
        });
        // A search that fits gives its answer; an exhausted time budget still fails closed.
        const small = decider(10_000);
        assert.equal(small.d.budget.within(100, () => small.d.witness(glob(small.a, "ab*"))), "ab");
        const lateAlphabet = new Alphabet();
        const late = new Decider(lateAlphabet, spentBudget().budget);
        assert.throws(() => late.budget.within(100, () => late.isEmpty(hard(lateAlphabet))), (e: unknown) => e instanceof ComplexityError && e.timeLimitMs === 2_000);
    });
});

describe("BoundedCache", () => {
    it("holds at most its bound, keeps what was used since the last turnover, and forgets the rest", () => {
        const c = new BoundedCache<number, string>(8);
        for (let i = 0; i < 100; i++) {
            c.set(i, `v${i}`);
            // Entry 0 is read after every insertion: it is always among the recently used.
            assert.equal(c.get(0), "v0", `lost the entry in use after ${i} insertions`);
            assert.ok(c.size <= 8, `size ${c.size} past the bound`);
        }
        assert.equal(c.get(99), "v99");
        assert.equal(c.get(50), undefined);
    });

    it("answers a hit from either generation", () => {
        const c = new BoundedCache<string, number>(4);
        c.set("a", 1);
        c.set("b", 2); // turnover: a and b are now the old generation
        assert.equal(c.get("a"), 1);
        assert.equal(c.get("b"), 2);
    });
});
