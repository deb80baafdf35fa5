/**
 * Exact decisions over glob languages: emptiness (with a shortest witness), finiteness and inclusion,
 * by lazily determinized automata and their products.
 *
 * Alphabet. Strings are read as code points. Symbols 0..94 are printable ASCII (U+0020..U+007E), symbol 95 (OTHER)
 * stands for every character no automaton in play names explicitly, and symbols 96.. are characters a document
 * names that are not printable ASCII (registered in an `Alphabet`). An automaton built over fewer symbols than
 * the alphabet in use reads every symbol it does not know as OTHER; that is exact, because it names none of them.
 * OTHER stands for infinitely many characters, so a language with a useful OTHER edge is infinite.
 */

export const ASCII_SYMBOLS = 95;
export const OTHER = 95;
export const BASE_WIDTH = 96;

/** Raised when a decision would explore more automaton states, or take longer, than the budget allows: callers fail closed. */
export class ComplexityError extends Error {
    constructor(
        readonly limit: number,
        /** Set when the time budget (not the state budget) ran out. */
        readonly timeLimitMs?: number,
    ) {
        super(
            timeLimitMs === undefined
                ? `the document is too complex to decide within ${limit} automaton states`
                : `the document is too complex to decide within ${timeLimitMs} ms`,
        );
        this.name = "ComplexityError";
    }
}

/** A shared state budget for one analysis, and optionally a time budget (the clock is read every 64 steps). */
export class Budget {
    used = 0;
    private steps = 0;
    /** When the time budget ends: the document's, or sooner while `within` runs an optional search. */
    private until: number;
    /** The state limit in force: `limit`, or lower while `within` runs an optional search. */
    private cap: number;
    /** @param until when the time budget ends (Date.now() + timeLimitMs by default: it starts now) */
    constructor(
        readonly limit: number,
        readonly timeLimitMs?: number,
        until?: number,
    ) {
        this.until = timeLimitMs === undefined ? Infinity : (until ?? Date.now() + timeLimitMs);
        this.cap = limit;
    }
    take(n = 1): void {
        this.used += n;
        if (this.used > this.cap) throw new ComplexityError(this.used > this.limit ? this.limit : this.cap);
        this.tick();
    }
    /**
     * Runs an optional search that may make at most `allowance` more states, and at most half of the states and half
     * of the time the budget has left (so the search alone never exhausts either): its result, or undefined when that
     * ran out. The analysis then goes on, the states made so far counted as used; a product stopped there is
     * consistent (a state is taken from the budget before anything of it is recorded, and an edge is recorded only
     * once its state exists). When the budget itself has run out (its time spent before the search), it still throws.
     */
    within<T>(allowance: number, search: () => T): T | undefined {
        const saved = this.cap;
        const savedUntil = this.until;
        this.cap = this.used + Math.max(0, Math.min(allowance, Math.floor((saved - this.used) / 2)));
        if (savedUntil !== Infinity) {
            const now = Date.now();
            this.until = now + Math.floor((savedUntil - now) / 2);
        }
        try {
            return search();
        } catch (e) {
            if (e instanceof ComplexityError && (e.timeLimitMs === undefined ? this.used <= saved : Date.now() <= savedUntil)) return undefined;
            throw e;
        } finally {
            this.cap = saved;
            this.until = savedUntil;
        }
    }
    /** Counts a step of work that explores no state; past the time budget it throws ComplexityError. */
    tick(): void {
        if (++this.steps % 64 === 0 && Date.now() > this.until) throw new ComplexityError(this.limit, this.timeLimitMs);
    }
}

/** Characters beyond printable ASCII that the current document names. */
export class Alphabet {
    private readonly extra: string[] = [];
    private readonly index = new Map<string, number>();
    private frozen = false;

    /** The symbol of one code point without registering it (OTHER when unnamed). */
    lookup(ch: string): number {
        const cp = ch.codePointAt(0) ?? 0;
        if (cp >= 0x20 && cp <= 0x7e) return cp - 0x20;
        return this.index.get(ch) ?? OTHER;
    }

    /** Registers (unless frozen) and returns the symbol of one code point. */
    symbol(ch: string): number {
        const cp = ch.codePointAt(0) ?? 0;
        if (cp >= 0x20 && cp <= 0x7e) return cp - 0x20;
        const known = this.index.get(ch);
        if (known !== undefined) return known;
        if (this.frozen) return OTHER;
        const sym = BASE_WIDTH + this.extra.length;
        this.extra.push(ch);
        this.index.set(ch, sym);
        return sym;
    }

    freeze(): void {
        this.frozen = true;
    }

    get width(): number {
        return BASE_WIDTH + this.extra.length;
    }

    /** A concrete character for a symbol; for OTHER one that no automaton names. */
    char(sym: number): string {
        if (sym < ASCII_SYMBOLS) return String.fromCharCode(sym + 0x20);
        if (sym === OTHER) {
            for (const c of ["\u00a4", "\u00a7", "\u00b6", "\u2042", "\u2603"]) {
                if (!this.index.has(c)) return c;
            }
            return "\u{1F47E}";
        }
        return this.extra[sym - BASE_WIDTH] ?? "\u00a4";
    }

    /** The symbols of a string (code points). */
    symbols(s: string): number[] {
        return Array.from(s, (c) => this.symbol(c));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Regular expressions over symbols, compiled to NFAs (Thompson construction).

/** A set of symbols: everything (OTHER included), an explicit set, or everything except an explicit set. */
export type SymSet =
    | { kind: "any" }
    | { kind: "set"; syms: ReadonlySet<number> }
    | { kind: "except"; syms: ReadonlySet<number> };

export type Rx =
    | { t: "eps" }
    | { t: "sym"; set: SymSet }
    | { t: "seq"; xs: Rx[] }
    | { t: "alt"; xs: Rx[] }
    | { t: "star"; x: Rx };

export const rx = {
    eps: { t: "eps" } as Rx,
    any: { t: "sym", set: { kind: "any" } } as Rx,
    set(syms: Iterable<number>): Rx {
        return { t: "sym", set: { kind: "set", syms: new Set(syms) } };
    },
    except(syms: Iterable<number>): Rx {
        return { t: "sym", set: { kind: "except", syms: new Set(syms) } };
    },
    seq(...xs: Rx[]): Rx {
        return { t: "seq", xs };
    },
    alt(...xs: Rx[]): Rx {
        return { t: "alt", xs };
    },
    /** `seq` of a list (a list of any length: spread into a call, 125,000 items overflow the stack). */
    seqOf(xs: readonly Rx[]): Rx {
        return { t: "seq", xs: xs.slice() };
    },
    /** `alt` of a list (a condition's values: any number of them). */
    altOf(xs: readonly Rx[]): Rx {
        return { t: "alt", xs: xs.slice() };
    },
    star(x: Rx): Rx {
        return { t: "star", x };
    },
    plus(x: Rx): Rx {
        return { t: "seq", xs: [x, { t: "star", x }] };
    },
    /** A literal string; with `ignoreCase`, each letter also matches its other case. */
    lit(s: string, alphabet: Alphabet, ignoreCase = false): Rx {
        if (!ignoreCase) {
            // Code unit by code unit (a condition can list 150,000 values): printable ASCII is its own symbol.
            const xs: Rx[] = [];
            for (let i = 0; i < s.length; i++) {
                const unit = s.charCodeAt(i);
                if (unit >= 0x20 && unit <= 0x7e) {
                    xs.push(oneSymbol(unit - 0x20));
                } else {
                    const cp = s.codePointAt(i)!;
                    if (cp > 0xffff) i++;
                    xs.push(oneSymbol(alphabet.symbol(String.fromCodePoint(cp))));
                }
            }
            return { t: "seq", xs };
        }
        const xs: Rx[] = Array.from(s, (c) => {
            const variants = new Set([c, c.toLowerCase(), c.toUpperCase()].filter((v) => Array.from(v).length === 1));
            return caseSymbol([...variants].map((v) => alphabet.symbol(v)));
        });
        return { t: "seq", xs };
    },
};

/** One node per symbol that matches just that symbol, shared by every literal (nodes and their sets are read-only). */
const oneSymbols: Rx[] = [];

function oneSymbol(sym: number): Rx {
    return (oneSymbols[sym] ??= rx.set([sym]));
}

/** One node per set of an ASCII letter's cases, shared like {@link oneSymbol} (alternatives that share it share a trie path). */
const caseSymbols = new Map<string, Rx>();

function caseSymbol(syms: number[]): Rx {
    if (syms.length === 1) return oneSymbol(syms[0]!);
    // ASCII letters only: other characters' symbols are numbered per document, and would fill the map for good.
    if (syms.some((sym) => sym >= ASCII_SYMBOLS)) return rx.set(syms);
    syms.sort((a, b) => a - b);
    const key = syms.join(",");
    let r = caseSymbols.get(key);
    if (r === undefined) caseSymbols.set(key, (r = rx.set(syms)));
    return r;
}

/** ASCII characters as a symbol set (for grammar classes such as `[A-Za-z0-9_.-]`). */
export function asciiClass(chars: string): Set<number> {
    return new Set(Array.from(chars, (c) => c.charCodeAt(0) - 0x20));
}

/** Trie keys are `node * TRIE_KEY_BASE + set id`: exact as long as both stay below 2^26 (64 M nodes and sets). */
const TRIE_KEY_BASE = 2 ** 26;

/** The parts of `x` read as one sequence, nested sequences expanded (iteratively: a literal can be long). */
function flatSeq(x: Rx): Rx[] {
    if (x.t !== "seq") return [x];
    const out: Rx[] = [];
    const stack: Rx[] = [x];
    while (stack.length > 0) {
        const y = stack.pop()!;
        if (y.t === "seq") for (let i = y.xs.length - 1; i >= 0; i--) stack.push(y.xs[i]!);
        else if (y.t !== "eps") out.push(y);
    }
    return out;
}

/**
 * An NFA as lists of links in the order they were made (no array per node, no object per edge: a union of 150,000
 * values has millions of nodes): ε-link k goes from epsFrom[k] to epsTo[k], edge k from edgeFrom[k] to edgeTo[k]
 * on the symbols of edgeSet[k].
 */
interface Nfa {
    nodes: number;
    epsFrom: number[];
    epsTo: number[];
    edgeFrom: number[];
    edgeTo: number[];
    edgeSet: SymSet[];
    start: number;
    accept: number;
}

/** Offsets of a compressed adjacency: the links of node i are order[off[i] .. off[i+1]), in the order they were made. */
function byNode(from: readonly number[], nodes: number): { off: Int32Array; order: Int32Array } {
    const off = new Int32Array(nodes + 1);
    for (const f of from) off[f + 1]!++;
    for (let i = 0; i < nodes; i++) off[i + 1]! += off[i]!;
    const next = off.slice(0, nodes);
    const order = new Int32Array(from.length);
    for (let k = 0; k < from.length; k++) order[next[from[k]!]!++] = k;
    return { off, order };
}

/**
 * Thompson's construction, each part built from the node where the one before it ended (no ε-link between the
 * parts of a sequence, so a literal of n characters is n+1 nodes). A starred part gets a node of its own, so two
 * stars in a row do not loop into each other.
 */
function compile(r: Rx, budget?: Budget): Nfa {
    let nodes = 0;
    const epsFrom: number[] = [];
    const epsTo: number[] = [];
    const edgeFrom: number[] = [];
    const edgeTo: number[] = [];
    const edgeSet: SymSet[] = [];
    const node = (): number => {
        budget?.tick();
        return nodes++;
    };
    const link = (from: number, to: number): void => {
        epsFrom.push(from);
        epsTo.push(to);
    };
    const edge = (from: number, set: SymSet, to: number): void => {
        edgeFrom.push(from);
        edgeSet.push(set);
        edgeTo.push(to);
    };
    const build = (x: Rx, from: number): number => {
        switch (x.t) {
            case "eps":
                return from;
            case "sym": {
                const e = node();
                edge(from, x.set, e);
                return e;
            }
            case "seq": {
                let at = from;
                for (const part of x.xs) at = build(part, at);
                return at;
            }
            case "alt": {
                // The alternatives' leading symbols form a trie: alternatives that start alike share those nodes,
                // so a state of the DFA holds one node per distinct prefix, not one per alternative (a union of
                // 150,000 literals is a trie, whose DFA states are single nodes). Trie nodes only ever gain
                // outgoing edges: what follows an alternative's leading symbols is built from its last trie node,
                // and a star there gets a node of its own, so nothing loops back into the trie.
                const e = node();
                const root = node();
                link(from, root);
                const children = new Map<number, number>();
                const setIds = new Map<SymSet, number>();
                // The trie path of the alternative before (path[k]: the node after its first k parts): values are
                // often written in order, and the parts this one shares with it are not looked up again.
                let prevParts: Rx[] = [];
                const path: number[] = [root];
                for (const part of x.xs) {
                    const parts = flatSeq(part);
                    let i = 0;
                    while (i < path.length - 1 && i < parts.length && parts[i] === prevParts[i]) i++;
                    let at = path[i]!;
                    path.length = i + 1;
                    for (; i < parts.length; i++) {
                        const p = parts[i]!;
                        if (p.t !== "sym" || at >= TRIE_KEY_BASE) break;
                        let id = setIds.get(p.set);
                        if (id === undefined) setIds.set(p.set, (id = setIds.size));
                        if (id >= TRIE_KEY_BASE) break;
                        const key = at * TRIE_KEY_BASE + id;
                        let next = children.get(key);
                        if (next === undefined) {
                            next = node();
                            edge(at, p.set, next);
                            children.set(key, next);
                        }
                        at = next;
                        path.push(at);
                    }
                    prevParts = parts;
                    for (; i < parts.length; i++) at = build(parts[i]!, at);
                    link(at, e);
                }
                return e;
            }
            case "star": {
                const s = node();
                link(from, s);
                const inner = node();
                link(s, inner);
                link(build(x.x, inner), s);
                return s;
            }
        }
    };
    const start = node();
    const accept = build(r, start);
    return { nodes, epsFrom, epsTo, edgeFrom, edgeTo, edgeSet, start, accept };
}

// ---------------------------------------------------------------------------------------------------------------
// Automata: anything with a start state, a step function and accepting states.

export interface Automaton {
    readonly start: number;
    step(state: number, sym: number): number;
    accepting(state: number): boolean;
    /** "dead": no member is reachable any more; "universal": every continuation is a member; null: neither or unknown. */
    sink?(state: number): Sink;
    /** Symbols with the same class behave alike; `stepClass` steps on a class. Both or neither. */
    symbolClass?(sym: number): number;
    stepClass?(state: number, cls: number): number;
}

export type Sink = "dead" | "universal" | null;

const EMPTY: readonly number[] = [];

/**
 * The coarsest partition of the symbols below `width` that no set tells apart (symbols in the same class are in
 * the same sets), refined set by set; classes are numbered by their smallest symbol.
 */
function symbolClasses(sets: readonly SymSet[], width: number): { classOf: Int32Array; count: number } {
    let part = new Int32Array(width);
    let count = 1;
    const seen = new Set<string>();
    // Literals share their symbols' set objects: a union of 150,000 values has millions of edges and a few sets.
    const seenSets = new Set<SymSet>();
    const inSet = new Uint8Array(width);
    for (const set of sets) {
        if (set.kind === "any" || seenSets.has(set)) continue;
        seenSets.add(set);
        // Sets already refined by: one-symbol sets keyed cheaply, others by their sorted members.
        const key = set.syms.size === 1 ? `${set.syms.values().next().value}` : [...set.syms].sort((x, y) => x - y).join(",");
        if (seen.has(key)) continue;
        seen.add(key);
        inSet.fill(0);
        for (const sym of set.syms) if (sym < width) inSet[sym] = 1;
        const ids = new Int32Array(count * 2).fill(-1);
        const next = new Int32Array(width);
        let n = 0;
        for (let sym = 0; sym < width; sym++) {
            const k = part[sym]! * 2 + inSet[sym]!;
            if (ids[k]! < 0) ids[k] = n++;
            next[sym] = ids[k]!;
        }
        part = next;
        count = n;
    }
    return { classOf: part, count };
}

/**
 * A DFA determinized on demand from an NFA. A DFA state is the set of *important* NFA states its strings reach
 * (those with a symbol edge, and the accepting one): ε-only states are passed through, so sets stay small and sets
 * that differ only in them are one state. A state's transitions are computed for every class at once (the edges of
 * its NFA states are visited once, each on the classes it matches), the way products explore them.
 */
export class LazyDfa implements Automaton {
    readonly start = 0;
    /**
     * The NFA, flat: state n's ε-targets are epsTo[epsOff[n] .. epsOff[n+1]), its symbol edges edgeTo[e] for e in
     * edgeOff[n] .. edgeOff[n+1], and edge e matches the classes clsList[clsOff[e] .. clsOff[e+1]).
     */
    private readonly epsOff: Int32Array;
    private readonly epsTo: Int32Array;
    private readonly edgeOff: Int32Array;
    private readonly edgeTo: Int32Array;
    private readonly clsOff: Int32Array;
    private readonly clsList: Int32Array;
    private readonly accept: number;
    /** Per NFA state: has a symbol edge or is the accepting state. */
    private readonly important: Uint8Array;
    /** DFA states by the hash of their NFA state set. */
    private readonly keys = new Map<number, number[]>();
    /**
     * States in flat, growable typed arrays (no allocation per state): state d's NFA set is
     * pool[setStart[d] .. setStart[d+1]), its transitions tab[d*classes .. d*classes+classes) (-1 unexplored).
     */
    private states = 0;
    private capacity = 0;
    private setStart = new Int32Array(1);
    private pool = new Int32Array(64);
    private tab = new Int32Array(0);
    private acc = new Uint8Array(0);
    private readonly sinks: Array<Sink | undefined> = [];
    /** The state of the empty set (no member reachable), once interned. */
    private deadId = -1;
    /** Symbols no edge of the NFA tells apart share a class; transitions are stored per class. */
    readonly classOf: Int32Array;
    /** How many classes. */
    private readonly classes: number;
    /** Budget charged for new states: set per use, since a cached DFA outlives one analysis. */
    budget: Budget | null = null;
    /** Set for process-wide automata (the token grammar): decisions over them alone are cached. */
    sharedId: number | null = null;

    /**
     * @param width the symbols this automaton tells apart; symbols at or above it read as `extrasAs`
     * @param extrasAs OTHER by default (exact when the automaton names none of those characters)
     * @param budget the analysis it is built for: building is linear in the expression, but a condition can list
     *   150,000 values, so the clock is read while building too
     */
    constructor(
        r: Rx,
        readonly width: number,
        private readonly extrasAs: number = OTHER,
        budget?: Budget,
    ) {
        const nfa = compile(r, budget);
        const n = nfa.nodes;
        // Flatten, by node: the Rx tree and its symbol sets are garbage from here on.
        const eps = byNode(nfa.epsFrom, n);
        this.epsOff = eps.off;
        this.epsTo = Int32Array.from(eps.order, (k) => nfa.epsTo[k]!);
        const edges = byNode(nfa.edgeFrom, n);
        this.edgeOff = edges.off;
        const sets = Array.from(edges.order, (k) => nfa.edgeSet[k]!);
        const { classOf, count } = symbolClasses(sets, width);
        this.classOf = classOf;
        this.classes = count;
        this.accept = nfa.accept;
        this.edgeTo = Int32Array.from(edges.order, (k) => nfa.edgeTo[k]!);
        this.clsOff = new Int32Array(sets.length + 1);
        const cls: number[] = [];
        const seen = new Int32Array(count).fill(-1);
        for (let e = 0; e < sets.length; e++) {
            budget?.tick();
            const set = sets[e]!;
            // The classes the edge's set matches: it is a union of classes.
            if (set.kind === "set") {
                for (const sym of set.syms) {
                    if (sym >= width) continue;
                    const c = classOf[sym]!;
                    if (seen[c] !== e) {
                        seen[c] = e;
                        cls.push(c);
                    }
                }
            } else {
                const out = new Uint8Array(count);
                if (set.kind === "except") for (const sym of set.syms) if (sym < width) out[classOf[sym]!] = 1;
                // Every class (of "except": but those wholly inside the set) has a symbol outside it.
                for (let c = 0; c < count; c++) if (!out[c]) cls.push(c);
            }
            this.clsOff[e + 1] = cls.length;
        }
        this.clsList = Int32Array.from(cls);
        this.important = new Uint8Array(n);
        for (let i = 0; i < n; i++) if (this.edgeOff[i + 1]! > this.edgeOff[i]! || i === this.accept) this.important[i] = 1;
        this.mark = new Uint32Array(n);
        this.seeds = Array.from({ length: count }, () => []);
        this.seedCount = new Int32Array(count);
        this.intern(this.closure([nfa.start], 1));
    }

    get classCount(): number {
        return this.classes;
    }

    /** How many NFA states the largest explored state holds (what each of its steps walks). */
    get largestStateSet(): number {
        let max = 0;
        for (let d = 0; d < this.states; d++) max = Math.max(max, this.setStart[d + 1]! - this.setStart[d]!);
        return max;
    }

    private mark: Uint32Array;
    private epoch = 0;
    /** Per class: the NFA states the current row's edges lead to, seedCount[c] of them (reused buffers). */
    private readonly seeds: number[][];
    private readonly seedCount: Int32Array;
    private readonly stack: number[] = [];

    /** The important NFA states of the ε-closure of the first `count` states of `seed`, sorted. */
    private closure(seed: readonly number[], count: number): number[] {
        if (++this.epoch === 0xffffffff) {
            this.mark.fill(0);
            this.epoch = 1;
        }
        const epoch = this.epoch;
        const mark = this.mark;
        const out: number[] = [];
        const stack = this.stack;
        for (let i = 0; i < count; i++) {
            const s = seed[i]!;
            if (mark[s] !== epoch) {
                mark[s] = epoch;
                stack.push(s);
            }
        }
        while (stack.length > 0) {
            const s = stack.pop()!;
            if (this.important[s]) out.push(s);
            for (let k = this.epsOff[s]!, end = this.epsOff[s + 1]!; k < end; k++) {
                const t = this.epsTo[k]!;
                if (mark[t] !== epoch) {
                    mark[t] = epoch;
                    stack.push(t);
                }
            }
        }
        // Sets are small (insertion sort), except where a union of thousands of literals starts: sorted natively,
        // as insertion sort there is quadratic (20,000 values of one condition took seconds per state).
        if (out.length > 64) return out.sort((a, b) => a - b);
        for (let i = 1; i < out.length; i++) {
            const x = out[i]!;
            let j = i - 1;
            while (j >= 0 && out[j]! > x) {
                out[j + 1] = out[j]!;
                j--;
            }
            out[j + 1] = x;
        }
        return out;
    }

    private intern(set: readonly number[]): number {
        if (set.length === 0 && this.deadId >= 0) return this.deadId;
        // NFA state sets are found by a numeric hash of the sorted set (no key strings), equal sets compared.
        let h = 0x811c9dc5 ^ set.length;
        for (let i = 0; i < set.length; i++) h = Math.imul(h ^ set[i]!, 0x01000193);
        const bucket = this.keys.get(h);
        if (bucket !== undefined) {
            for (const id of bucket) if (this.sameSet(id, set)) return id;
        }
        this.budget?.take();
        const id = this.states;
        if (id === this.capacity) this.grow();
        if (bucket) bucket.push(id);
        else this.keys.set(h, [id]);
        const at = this.setStart[id]!;
        if (at + set.length > this.pool.length) {
            const pool = new Int32Array(Math.max(this.pool.length * 2, at + set.length));
            pool.set(this.pool);
            this.pool = pool;
        }
        for (let i = 0; i < set.length; i++) this.pool[at + i] = set[i]!;
        this.setStart[id + 1] = at + set.length;
        this.acc[id] = set.includes(this.accept) ? 1 : 0;
        this.states++;
        if (set.length === 0) this.deadId = id;
        return id;
    }

    private sameSet(id: number, set: readonly number[]): boolean {
        const at = this.setStart[id]!;
        if (this.setStart[id + 1]! - at !== set.length) return false;
        for (let i = 0; i < set.length; i++) if (this.pool[at + i] !== set[i]) return false;
        return true;
    }

    private grow(): void {
        const cap = Math.max(16, this.capacity * 2);
        const tab = new Int32Array(cap * this.classes).fill(-1);
        tab.set(this.tab);
        this.tab = tab;
        const acc = new Uint8Array(cap);
        acc.set(this.acc);
        this.acc = acc;
        const starts = new Int32Array(cap + 1);
        starts.set(this.setStart);
        this.setStart = starts;
        this.capacity = cap;
    }

    /** Computes every transition of `state`: each edge of its NFA states is visited once. */
    private fillRow(state: number): void {
        const seeds = this.seeds;
        const count = this.seedCount;
        // A row left half done by a budget error (the automaton may be shared) starts clean.
        count.fill(0);
        for (let j = this.setStart[state]!, last = this.setStart[state + 1]!; j < last; j++) {
            const n = this.pool[j]!;
            for (let e = this.edgeOff[n]!, end = this.edgeOff[n + 1]!; e < end; e++) {
                const to = this.edgeTo[e]!;
                for (let k = this.clsOff[e]!, last = this.clsOff[e + 1]!; k < last; k++) {
                    const c = this.clsList[k]!;
                    seeds[c]![count[c]!++] = to;
                }
            }
        }
        // Classes whose edges lead to the same NFA states (in the same order) step alike: most classes of a row
        // only follow a `*`. Each distinct seed list is closed and interned once.
        const C = this.classes;
        for (let c = 0; c < C; c++) {
            const n = count[c]!;
            const seed = seeds[c]!;
            let id = -1;
            for (let p = 0; p < c && id < 0; p++) {
                if (count[p] !== n) continue;
                const other = seeds[p]!;
                let k = 0;
                while (k < n && other[k] === seed[k]) k++;
                if (k === n) id = this.tab[state * C + p]!;
            }
            if (id < 0) id = n === 0 ? this.intern(EMPTY) : this.intern(this.closure(seed, n));
            // After interning: the table may have grown.
            this.tab[state * C + c] = id;
        }
        count.fill(0);
    }

    /** Per state, the classes on which it does not step to the dead state (computed with its row). */
    private readonly liveRows: Array<Int32Array | undefined> = [];

    /** The classes on which `state` does not step to the dead state (the empty set). */
    liveClasses(state: number): Int32Array {
        const known = this.liveRows[state];
        if (known) return known;
        const C = this.classes;
        if (this.tab[state * C]! < 0) this.fillRow(state);
        let n = 0;
        for (let c = 0; c < C; c++) if (this.tab[state * C + c] !== this.deadId) n++;
        const live = new Int32Array(n);
        for (let c = 0, k = 0; c < C; c++) if (this.tab[state * C + c] !== this.deadId) live[k++] = c;
        this.liveRows[state] = live;
        return live;
    }

    /** Whether `state` steps on class `cls` to a state other than the dead one; its row must be filled (`liveClasses`). */
    keepsLive(state: number, cls: number): boolean {
        return this.tab[state * this.classes + cls] !== this.deadId;
    }

    /** The class of any symbol of the alphabet in use. */
    symbolClass(sym: number): number {
        return this.classOf[sym < this.width ? sym : this.extrasAs]!;
    }

    step(state: number, sym: number): number {
        return this.stepClass(state, this.symbolClass(sym));
    }

    stepClass(state: number, cls: number): number {
        const cached = this.tab[state * this.classes + cls]!;
        if (cached >= 0) return cached;
        this.fillRow(state);
        return this.tab[state * this.classes + cls]!;
    }

    accepting(state: number): boolean {
        return this.acc[state] === 1;
    }

    sink(state: number): Sink {
        const known = this.sinks[state];
        if (known !== undefined) return known;
        let result: Sink = null;
        if (this.setStart[state + 1] === this.setStart[state]) {
            result = "dead";
        } else if (this.acc[state]) {
            result = "universal";
            for (let c = 0; c < this.classes; c++) {
                if (this.stepClass(state, c) !== state) {
                    result = null;
                    break;
                }
            }
        }
        this.sinks[state] = result;
        return result;
    }

    /** Whether the whole string is in the language. */
    matches(symbols: readonly number[]): boolean {
        let s = this.start;
        for (const c of symbols) s = this.step(s, c);
        return this.accepting(s);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Boolean combinations of languages, decided on the product automaton.

export type Lang =
    | { k: "all" }
    | { k: "none" }
    /** An explicit finite set of strings: decided by membership tests instead of products. */
    | { k: "finite"; items: readonly string[] }
    | { k: "leaf"; a: Automaton }
    | { k: "and"; xs: Lang[] }
    | { k: "or"; xs: Lang[] }
    | { k: "not"; x: Lang };

export const ALL: Lang = { k: "all" };
export const NONE: Lang = { k: "none" };

export function leaf(a: Automaton): Lang {
    return { k: "leaf", a };
}

export function finite(items: Iterable<string>): Lang {
    const unique = [...new Set(items)];
    return unique.length === 0 ? NONE : { k: "finite", items: unique };
}

export function and(...xs: Lang[]): Lang {
    return andOf(xs);
}

/** `and` of a list of any length. */
export function andOf(xs: readonly Lang[]): Lang {
    const parts: Lang[] = [];
    for (const x of xs) {
        if (x.k === "none") return NONE;
        if (x.k === "all") continue;
        if (x.k === "and") for (const y of x.xs) parts.push(y);
        else parts.push(x);
    }
    if (parts.length === 0) return ALL;
    if (parts.length === 1) return parts[0]!;
    return { k: "and", xs: parts };
}

export function or(...xs: Lang[]): Lang {
    return orOf(xs);
}

/** `or` of a list of any length. */
export function orOf(xs: readonly Lang[]): Lang {
    const parts: Lang[] = [];
    for (const x of xs) {
        if (x.k === "all") return ALL;
        if (x.k === "none") continue;
        if (x.k === "or") for (const y of x.xs) parts.push(y);
        else parts.push(x);
    }
    if (parts.length === 0) return NONE;
    if (parts.length === 1) return parts[0]!;
    return { k: "or", xs: parts };
}

export function not(x: Lang): Lang {
    if (x.k === "all") return NONE;
    if (x.k === "none") return ALL;
    if (x.k === "not") return x.x;
    return { k: "not", x };
}

/** Preferred order of symbols when searching a witness: readable characters first. */
const symbolOrders = new Map<number, readonly number[]>();

function symbolOrder(width: number): readonly number[] {
    let order = symbolOrders.get(width);
    if (!order) {
        const pref = "abcdefghijklmnopqrstuvwxyz0123456789-/:._ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const list: number[] = Array.from(pref, (c) => c.charCodeAt(0) - 0x20);
        const seen = new Set(list);
        for (let s = 0; s < width; s++) if (!seen.has(s)) list.push(s);
        order = list;
        symbolOrders.set(width, order);
    }
    return order;
}

/**
 * Indices grouped by key, compressed: the values of the items with key k are list[off[k] .. off[k+1]), in item
 * order. Items whose key is negative are left out.
 */
function groupBy(items: number, groups: number, key: (i: number) => number, value: (i: number) => number): { off: Int32Array; list: Int32Array } {
    const off = new Int32Array(groups + 1);
    for (let i = 0; i < items; i++) {
        const k = key(i);
        if (k >= 0) off[k + 1]!++;
    }
    for (let k = 0; k < groups; k++) off[k + 1]! += off[k]!;
    const fill = off.slice(0, groups);
    const list = new Int32Array(off[groups]!);
    for (let i = 0; i < items; i++) {
        const k = key(i);
        if (k >= 0) list[fill[k]!++] = value(i);
    }
    return { off, list };
}

/** How many candidate loops `Product.isInfinite` checks for liveness before it relies on full exploration. */
const MAX_PUMP_CHECKS = 8;

/** Scratch of the joint-class refinement, shared by every product of the process (products are built one at a time). */
const refinement = { stamp: 0, stamps: new Int32Array(0), ids: new Int32Array(0) };

function refinementTable(size: number): typeof refinement {
    if (refinement.stamps.length < size) {
        refinement.stamps = new Int32Array(size);
        refinement.ids = new Int32Array(size);
        refinement.stamp = 0;
    }
    if (refinement.stamp > 0x3fffffff) {
        refinement.stamps.fill(0);
        refinement.stamp = 0;
    }
    return refinement;
}

/**
 * The explored product of the leaves of a Lang. States are tuples of leaf states. Symbols that no leaf tells
 * apart form one class and are explored once; tuples from which no member is reachable fold into one dead state.
 */
export class Product implements Automaton {
    readonly start = 0;
    private readonly leaves: Automaton[] = [];
    private readonly test: (flags: boolean[]) => boolean;
    /** Three-valued: 0 false forever, 1 true forever, 2 undecided; by the leaves' sink states. */
    private readonly fate: (sinks: Sink[]) => 0 | 1 | 2;
    /** Leaves that are top-level conjuncts: when one of them dies, the tuple is dead without looking further. */
    private readonly required: number[] = [];
    private deadState = -1;
    /**
     * States live in flat, growable typed arrays (no allocation per state or step): state s's tuple is
     * tup[s*L .. s*L+L), its transitions tab[s*C .. s*C+C) (-1 unexplored). `slots` is an open-addressing index
     * from tuple hash to state (-1 free).
     */
    private count = 0;
    private capacity = 0;
    private tup = new Int32Array(0);
    private tab = new Int32Array(0);
    private hashes = new Int32Array(0);
    private slots = new Int32Array(16).fill(-1);
    private readonly acc: boolean[] = [];
    private explored = false;
    private liveSet: Uint8Array | null = null;
    private readonly width: number;
    /** Joint symbol classes: classOf[sym], the symbols of each class in preference order. */
    private readonly classOf: Int32Array;
    private readonly members: number[][] = [];
    /**
     * Per joint class and leaf, the leaf's class of the joint class's representative (LazyDfa) or the representative
     * symbol: leafIn[cls * leaves + leaf].
     */
    private readonly leafIn: Int32Array;
    /** Classes in witness preference order. */
    private readonly classOrder: number[];
    private readonly otherClass: number;
    /** Reused buffers: the next tuple (copied only when new), leaf sinks and acceptance flags. */
    private scratch: Int32Array = new Int32Array(0);
    private sinkBuffer: Sink[] = [];
    private flagBuffer: boolean[] = [];
    /** Leaves that are not required conjuncts, stepped after the required ones. */
    private optional: number[] = [];

    /** Index of the first passenger leaf: automata run alongside that do not take part in acceptance. */
    private readonly firstPassenger: number;

    constructor(
        lang: Lang,
        private readonly alphabet: Alphabet,
        private readonly budget: Budget,
        passengers: readonly Automaton[] = [],
    ) {
        this.test = this.compileLang(lang);
        this.fate = this.compileFate(lang);
        this.firstPassenger = this.leaves.length;
        for (const p of passengers) this.leaves.push(p);
        if (lang.k === "leaf") this.required.push(0);
        if (lang.k === "and") {
            for (const x of lang.xs) if (x.k === "leaf") this.required.push(this.leaves.indexOf(x.a));
        }
        for (const l of this.leaves) if (l instanceof LazyDfa) l.budget = budget;
        this.width = alphabet.width;
        // Joint classes, numbered in symbol preference order so that class order is witness order.
        // Symbols fall in one joint class when every leaf puts them in the same class: refine the partition leaf by
        // leaf (numbers, no signature strings), then number the classes in preference order.
        const order = symbolOrder(this.width);
        let part = new Int32Array(this.width);
        let parts = 1;
        const table = refinementTable((this.width + 1) * (this.width + 1));
        for (const l of this.leaves) {
            // (class so far, class at this leaf) pairs numbered in a stamped table: no map, no clearing.
            const stamp = ++table.stamp;
            const next = new Int32Array(this.width);
            let n = 0;
            for (const sym of order) {
                const k = part[sym]! * (this.width + 1) + (l.symbolClass ? l.symbolClass(sym) : sym);
                if (table.stamps[k] !== stamp) {
                    table.stamps[k] = stamp;
                    table.ids[k] = n++;
                }
                next[sym] = table.ids[k]!;
            }
            part = next;
            parts = n;
        }
        this.classOf = new Int32Array(this.width);
        const renumber = new Int32Array(parts).fill(-1);
        for (const sym of order) {
            const p = part[sym]!;
            if (renumber[p]! < 0) {
                renumber[p] = this.members.length;
                this.members.push([]);
            }
            const id = renumber[p]!;
            this.classOf[sym] = id;
            this.members[id]!.push(sym);
        }
        this.classOrder = this.members.map((_, i) => i);
        this.otherClass = this.classOf[OTHER]!;
        const L = this.leaves.length;
        this.leafIn = new Int32Array(this.members.length * L);
        for (const [c, m] of this.members.entries()) {
            for (const [i, l] of this.leaves.entries()) this.leafIn[c * L + i] = l.symbolClass ? l.symbolClass(m[0]!) : m[0]!;
        }
        this.rowKept = new Int32Array(this.members.length);
        this.scratch = new Int32Array(this.leaves.length);
        this.sinkBuffer = new Array<Sink>(this.leaves.length).fill(null);
        this.flagBuffer = new Array<boolean>(this.leaves.length).fill(false);
        this.optional = this.leaves.map((_, i) => i).filter((i) => !this.required.includes(i));
        this.setGuides();
        this.intern(Int32Array.from(this.leaves, (l) => l.start));
    }

    private compileLang(l: Lang): (flags: boolean[]) => boolean {
        switch (l.k) {
            case "finite":
                throw new Error("internal: finite languages are converted to automata before products");
            case "all":
                return () => true;
            case "none":
                return () => false;
            case "leaf": {
                let i = this.leaves.indexOf(l.a);
                if (i < 0) {
                    i = this.leaves.length;
                    this.leaves.push(l.a);
                }
                const idx = i;
                return (f) => f[idx]!;
            }
            case "and": {
                const fs = l.xs.map((x) => this.compileLang(x));
                return (f) => fs.every((g) => g(f));
            }
            case "or": {
                const fs = l.xs.map((x) => this.compileLang(x));
                return (f) => fs.some((g) => g(f));
            }
            case "not": {
                const g = this.compileLang(l.x);
                return (f) => !g(f);
            }
        }
    }

    private compileFate(l: Lang): (sinks: Sink[]) => 0 | 1 | 2 {
        switch (l.k) {
            case "finite":
                throw new Error("internal: finite languages are converted to automata before products");
            case "all":
                return () => 1;
            case "none":
                return () => 0;
            case "leaf": {
                const idx = this.leaves.indexOf(l.a);
                return (k) => (k[idx] === "dead" ? 0 : k[idx] === "universal" ? 1 : 2);
            }
            case "and": {
                const fs = l.xs.map((x) => this.compileFate(x));
                return (k) => {
                    let all = true;
                    for (const g of fs) {
                        const v = g(k);
                        if (v === 0) return 0;
                        if (v !== 1) all = false;
                    }
                    return all ? 1 : 2;
                };
            }
            case "or": {
                const fs = l.xs.map((x) => this.compileFate(x));
                return (k) => {
                    let none = true;
                    for (const g of fs) {
                        const v = g(k);
                        if (v === 1) return 1;
                        if (v !== 0) none = false;
                    }
                    return none ? 0 : 2;
                };
            }
            case "not": {
                const g = this.compileFate(l.x);
                return (k) => {
                    const v = g(k);
                    return v === 2 ? 2 : v === 1 ? 0 : 1;
                };
            }
        }
    }

    private hash(tuple: Int32Array): number {
        let h = 0x811c9dc5;
        for (let i = 0; i < tuple.length; i++) h = Math.imul(h ^ tuple[i]!, 0x01000193);
        return h;
    }

    private sameTuple(id: number, tuple: Int32Array): boolean {
        const L = tuple.length;
        const base = id * L;
        for (let i = 0; i < L; i++) if (this.tup[base + i] !== tuple[i]) return false;
        return true;
    }

    private lookup(tuple: Int32Array, h: number): number {
        const mask = this.slots.length - 1;
        for (let i = h & mask; ; i = (i + 1) & mask) {
            const id = this.slots[i]!;
            if (id < 0) return -1;
            if (this.hashes[id] === h && this.sameTuple(id, tuple)) return id;
        }
    }

    private index(id: number, h: number): void {
        if ((this.count + 1) * 2 > this.slots.length) {
            // Grow the index and re-insert every indexed state (the dead state is not indexed).
            const slots = new Int32Array(this.slots.length * 2).fill(-1);
            const mask = slots.length - 1;
            for (let s = 0; s < id; s++) {
                if (s === this.deadState) continue;
                let i = this.hashes[s]! & mask;
                while (slots[i]! >= 0) i = (i + 1) & mask;
                slots[i] = s;
            }
            this.slots = slots;
        }
        const mask = this.slots.length - 1;
        let i = h & mask;
        while (this.slots[i]! >= 0) i = (i + 1) & mask;
        this.slots[i] = id;
    }

    private grow(): void {
        const cap = Math.max(64, this.capacity * 2);
        const L = this.leaves.length;
        const C = this.members.length;
        const tup = new Int32Array(cap * L);
        tup.set(this.tup);
        const tab = new Int32Array(cap * C).fill(-1);
        tab.set(this.tab);
        const hs = new Int32Array(cap);
        hs.set(this.hashes);
        const filled = new Uint8Array(cap);
        filled.set(this.filled);
        const fates = new Uint8Array(cap);
        fates.set(this.fates);
        this.fates = fates;
        this.tup = tup;
        this.tab = tab;
        this.hashes = hs;
        this.filled = filled;
        this.capacity = cap;
    }

    private dead(): number {
        if (this.deadState < 0) {
            this.deadState = this.add(new Int32Array(this.leaves.length).fill(-1), null, false);
            const C = this.members.length;
            this.tab.fill(this.deadState, this.deadState * C, this.deadState * C + C);
        }
        return this.deadState;
    }

    /** Adds a state (copying `tuple`); `h` null keeps it out of the tuple index (the dead state). */
    private add(tuple: Int32Array, h: number | null, accepting: boolean | undefined): number {
        this.budget.take();
        const id = this.count;
        if (id === this.capacity) this.grow();
        this.tup.set(tuple, id * tuple.length);
        this.count++;
        if (h !== null) {
            this.hashes[id] = h;
            this.index(id, h);
        }
        if (accepting === undefined) {
            const flags = this.flagBuffer;
            for (let i = 0; i < tuple.length; i++) flags[i] = tuple[i]! >= 0 && this.leaves[i]!.accepting(tuple[i]!);
            accepting = this.test(flags);
        }
        this.acc.push(accepting);
        return id;
    }

    private intern(tuple: Int32Array): number {
        const h = this.hash(tuple);
        const known = this.lookup(tuple, h);
        if (known >= 0) return known;
        const sinks = this.sinkBuffer;
        for (let i = 0; i < this.firstPassenger; i++) sinks[i] = this.leaves[i]!.sink?.(tuple[i]!) ?? null;
        const fate = this.fate(sinks);
        if (fate === 0 && this.count > 0) return this.dead();
        const id = this.add(tuple, h, undefined);
        this.fates[id] = fate;
        return id;
    }

    /**
     * Per state, what the leaves' sinks say of it: 1 every continuation is a member, 2 undecided (the dead state
     * and a dead start hold 0). A product that is a leaf of another (a union of exclusions) so tells it where it
     * stops mattering.
     */
    private fates = new Uint8Array(0);

    sink(state: number): Sink {
        const f = this.fates[state];
        return f === 0 ? "dead" : f === 1 ? "universal" : null;
    }

    /** The explored transition of `s` on class `c` (-1 when unexplored). */
    private edge(s: number, c: number): number {
        return this.tab[s * this.members.length + c]!;
    }

    step(state: number, symbol: number): number {
        return this.stepClass(state, this.classOf[symbol < this.width ? symbol : OTHER]!);
    }

    symbolClass(symbol: number): number {
        return this.classOf[symbol < this.width ? symbol : OTHER]!;
    }

    stepClass(state: number, cls: number): number {
        const C = this.members.length;
        const cached = this.tab[state * C + cls]!;
        if (cached >= 0) return cached;
        return this.computeEdge(state, cls);
    }

    /**
     * Computes every transition of `state` before a search looks at all of them (a walk along one string steps
     * single edges: filling whole rows there would make states no question asks about).
     */
    private row(state: number): void {
        if (this.filled[state] || state === this.deadState) return;
        if (this.guides.length > 0) {
            this.fillRow(state);
        } else {
            const C = this.members.length;
            for (let c = 0; c < C; c++) if (this.tab[state * C + c]! < 0) this.computeEdge(state, c);
        }
        this.filled[state] = 1;
    }

    /**
     * The leaves that guide row filling: the required conjuncts that are lazy DFAs (none: rows are filled class by
     * class). A class on which any of them dies leads to the product's dead state. `jointList[jointOff[k] ..
     * jointOff[k+1])` lists, per class of the leaf, the joint classes it takes in.
     */
    private guides: Array<{ leaf: number; dfa: LazyDfa; jointOff: Int32Array; jointList: Int32Array }> = [];
    /** The required leaves that are guides, and those that are not (stepped with a test for death on every edge). */
    private guideLeaves: number[] = [];
    private unguided: number[] = [];
    /** The joint classes every guide keeps live in the row being filled (reused). */
    private rowKept = new Int32Array(0);
    /** Per state, whether its whole row is computed. */
    private filled = new Uint8Array(0);

    private setGuides(): void {
        for (const g of this.required) {
            const dfa = this.leaves[g];
            if (!(dfa instanceof LazyDfa)) continue;
            const L = this.leaves.length;
            const { off: jointOff, list: jointList } = groupBy(this.members.length, dfa.classCount, (c) => this.leafIn[c * L + g]!, (c) => c);
            this.guides.push({ leaf: g, dfa, jointOff, jointList });
        }
        this.guideLeaves = this.guides.map((g) => g.leaf);
        this.unguided = this.required.filter((i) => !this.guideLeaves.includes(i));
    }

    /**
     * Fills every transition of `state`. Most characters kill one of the guides (a literal position of a pattern
     * admits one character; a grammar's name admits no separator): those classes go to the dead state at once, and
     * only the joint classes every guide keeps live are stepped leaf by leaf. The guide with the fewest live classes
     * here leads: the others are asked only about the classes it keeps.
     */
    private fillRow(state: number): void {
        const guides = this.guides;
        const C = this.members.length;
        const L = this.leaves.length;
        const G = guides.length;
        let lead = 0;
        let leadLive = guides[0]!.dfa.liveClasses(this.tup[state * L + guides[0]!.leaf]!);
        for (let g = 1; g < G; g++) {
            const live = guides[g]!.dfa.liveClasses(this.tup[state * L + guides[g]!.leaf]!);
            if (live.length < leadLive.length) {
                lead = g;
                leadLive = live;
            }
        }
        const kept = this.rowKept;
        let n = 0;
        const { jointOff, jointList } = guides[lead]!;
        for (let k = 0; k < leadLive.length; k++) {
            for (let j = jointOff[leadLive[k]!]!, end = jointOff[leadLive[k]! + 1]!; j < end; j++) {
                const c = jointList[j]!;
                let live = true;
                for (let g = 0; g < G && live; g++) {
                    if (g === lead) continue;
                    const other = guides[g]!;
                    live = other.dfa.keepsLive(this.tup[state * L + other.leaf]!, this.leafIn[c * L + other.leaf]!);
                }
                if (live) kept[n++] = c;
            }
        }
        const row = state * C;
        if (n < C) {
            // The classes a guide kills first: a budget error while the live ones are computed leaves those unknown.
            const dead = this.dead();
            this.tab.fill(dead, row, row + C);
            for (let k = 0; k < n; k++) this.tab[row + kept[k]!] = -1;
        }
        for (let k = 0; k < n; k++) if (this.tab[state * C + kept[k]!]! < 0) this.computeEdge(state, kept[k]!, true);
    }

    /** Computes (and records) the transition of `state` on class `cls`. */
    private computeEdge(state: number, cls: number, guidesLive = false): number {
        const C = this.members.length;
        const L = this.leaves.length;
        const base = state * L;
        const input = cls * L;
        const next = this.scratch;
        const leaves = this.leaves;
        const tup = this.tup;
        const leafIn = this.leafIn;
        let id = -1;
        // Leaves that must not die: the guides need no test when the row found them live on this class.
        const checked = guidesLive ? this.unguided : this.required;
        if (guidesLive) {
            for (const i of this.guideLeaves) next[i] = leaves[i]!.stepClass!(tup[base + i]!, leafIn[input + i]!);
        }
        for (const i of checked) {
            const l = leaves[i]!;
            const t = l.stepClass ? l.stepClass(tup[base + i]!, leafIn[input + i]!) : l.step(tup[base + i]!, leafIn[input + i]!);
            if (l.sink?.(t) === "dead") {
                id = this.dead();
                break;
            }
            next[i] = t;
        }
        if (id < 0) {
            for (const i of this.optional) {
                const l = leaves[i]!;
                next[i] = l.stepClass ? l.stepClass(tup[base + i]!, leafIn[input + i]!) : l.step(tup[base + i]!, leafIn[input + i]!);
            }
            id = this.intern(next);
        }
        // After intern: the table may have been reallocated.
        this.tab[state * C + cls] = id;
        return id;
    }

    accepting(state: number): boolean {
        return this.acc[state]!;
    }

    /**
     * The index of the first candidate in the language, or -1. Each candidate is walked on from the state its
     * common prefix with the one before reached (a prefix that died stays dead), so a list of fillers of one
     * pattern costs one walk of the shared part. New states are made in the order walking each candidate from
     * the start would make them. A candidate that is not printable ASCII is decided by `other`.
     */
    firstAccepted(candidates: readonly string[], walk: CandidateWalk, other: (c: string) => boolean): number {
        let path = new Int32Array(64);
        path[0] = 0;
        let depth = 0;
        let dead = false;
        for (let i = 0; i < candidates.length; i++) {
            const c = candidates[i]!;
            if (!walk.ascii[i]) {
                if (other(c)) return i;
                depth = 0;
                dead = false;
                continue;
            }
            if (i > 0 && depth > walk.lcp[i]!) {
                depth = walk.lcp[i]!;
                dead = false;
            }
            if (dead) continue;
            if (path.length <= c.length) {
                const longer = new Int32Array(Math.max(c.length + 1, path.length * 2));
                longer.set(path);
                path = longer;
            }
            for (let d = depth; d < c.length; d++) {
                const t = this.stepClass(path[d]!, this.classOf[c.charCodeAt(d) - 0x20]!);
                path[d + 1] = t;
                depth = d + 1;
                if (t === this.deadState) {
                    dead = true;
                    break;
                }
            }
            if (!dead && this.acc[path[depth]!]) return i;
        }
        return -1;
    }

    /**
     * A shortest member (readable characters preferred), or null when the language is empty. The path is the
     * breadth-first search's own (each state's first discovery, classes in preference order), so it does not
     * depend on the order in which other questions made the states. `goal` replaces "accepting" as what the search
     * looks for (a state from which some endings complete members: `Decider.prefixCompletedBy`).
     */
    witness(goal: (s: number) => boolean = (s) => this.acc[s]!): string | null {
        if (goal(0)) return "";
        const queue = [0];
        /** Per queue entry: the entry it was reached from, and on which class. */
        const via: number[] = [-1];
        const on: number[] = [-1];
        let seen = new Uint8Array(Math.max(64, this.count * 2));
        seen[0] = 1;
        for (let qi = 0; qi < queue.length; qi++) {
            const s = queue[qi]!;
            this.row(s);
            for (const cls of this.classOrder) {
                const t = this.stepClass(s, cls);
                if (t >= seen.length) seen = grown(seen, t);
                if (seen[t]) continue;
                seen[t] = 1;
                if (goal(t)) {
                    const syms = [this.members[cls]![0]!];
                    for (let q = qi; q > 0; q = via[q]!) syms.push(this.members[on[q]!]![0]!);
                    return syms
                        .reverse()
                        .map((c) => this.alphabet.char(c))
                        .join("");
                }
                queue.push(t);
                via.push(qi);
                on.push(cls);
            }
        }
        this.explored = true;
        return null;
    }

    isEmpty(): boolean {
        return !this.acc[0] && !this.explore((_s, _cls, t) => this.acc[t]!, 0, true);
    }

    /** Explores every reachable state. */
    private exploreAll(): void {
        if (!this.explored) this.explore();
    }

    /**
     * Over every state and edge reachable from `from`; `stop(s, cls, t)` may end it early (then true is returned). A
     * search from the start that ends on its own marks the product explored. Breadth-first by default; depth-first
     * for questions that need some member or some loop rather than the nearest one: they go down a pattern to where
     * it ends or repeats, instead of making every state nearer the start first.
     */
    private explore(stop?: (s: number, cls: number, t: number) => boolean, from = 0, depthFirst = false): boolean {
        const work = [from];
        let seen = new Uint8Array(Math.max(64, from + 1, this.count * 2));
        seen[from] = 1;
        for (let head = 0; head < work.length; ) {
            const s = depthFirst ? work.pop()! : work[head++]!;
            this.row(s);
            for (let cls = 0; cls < this.members.length; cls++) {
                const t = this.stepClass(s, cls);
                if (stop?.(s, cls, t)) return true;
                if (t >= seen.length) seen = grown(seen, t);
                if (!seen[t]) {
                    seen[t] = 1;
                    work.push(t);
                }
            }
        }
        if (from === 0) this.explored = true;
        return false;
    }

    /**
     * Reverse edges of the explored product, compressed: the predecessors of t are revFrom[revOff[t] .. revOff[t+1]),
     * each once. Edges into the dead state are left out (`reverseAll` keeps them), and so are loops: neither can
     * make a state reach a target it does not reach without them.
     */
    private reverse: { revOff: Int32Array; revFrom: Int32Array } | null = null;
    private reverseAll: { revOff: Int32Array; revFrom: Int32Array } | null = null;

    /**
     * The reverse edges, grouped by target (a counting sort: predecessors in increasing order). Written out rather
     * than through `groupBy`: it visits every cell of the table, most of a large product's time in `coReach` when its
     * key and value were calls. Most cells of a row lead to the dead state, or to one state on many classes (the
     * classes a `*` takes): one entry per predecessor keeps the lists as short as the graph.
     */
    private reverseEdges(withDead: boolean): { revOff: Int32Array; revFrom: Int32Array } {
        const n = this.count;
        const C = this.members.length;
        const tab = this.tab;
        const skip = withDead ? -1 : this.deadState;
        /** lastFrom[t]: the last predecessor counted for t (each counted once). */
        const lastFrom = new Int32Array(n).fill(-1);
        const revOff = new Int32Array(n + 1);
        for (let s = 0, k = 0; s < n; s++) {
            for (let c = 0; c < C; c++, k++) {
                const t = tab[k]!;
                if (t < 0 || t === s || t === skip || lastFrom[t] === s) continue;
                lastFrom[t] = s;
                revOff[t + 1]!++;
            }
        }
        for (let t = 0; t < n; t++) revOff[t + 1]! += revOff[t]!;
        const fill = revOff.slice(0, n);
        const revFrom = new Int32Array(revOff[n]!);
        lastFrom.fill(-1);
        for (let s = 0, k = 0; s < n; s++) {
            for (let c = 0; c < C; c++, k++) {
                const t = tab[k]!;
                if (t < 0 || t === s || t === skip || lastFrom[t] === s) continue;
                lastFrom[t] = s;
                revFrom[fill[t]!++] = s;
            }
        }
        return { revOff, revFrom };
    }

    /** States from which a state satisfying `target` is reachable through states satisfying `within`. */
    coReach(target: (s: number) => boolean, within: (s: number) => boolean = () => true): Uint8Array {
        this.exploreAll();
        const n = this.count;
        const mark = new Uint8Array(n);
        const stack = new Int32Array(n);
        let top = 0;
        for (let s = 0; s < n; s++) {
            if (within(s) && target(s)) {
                mark[s] = 1;
                stack[top++] = s;
            }
        }
        // The dead state reaches nothing but itself: only a target that is the dead state needs the edges into it.
        const intoDead = this.deadState >= 0 && mark[this.deadState] === 1;
        const { revOff, revFrom } = intoDead ? (this.reverseAll ??= this.reverseEdges(true)) : (this.reverse ??= this.reverseEdges(false));
        while (top > 0) {
            const s = stack[--top]!;
            for (let k = revOff[s]!, end = revOff[s + 1]!; k < end; k++) {
                const p = revFrom[k]!;
                if (!mark[p] && within(p)) {
                    mark[p] = 1;
                    stack[top++] = p;
                }
            }
        }
        return mark;
    }

    /** States from which an accepting state is reachable. */
    live(): Uint8Array {
        this.liveSet ??= this.coReach((s) => this.acc[s]!);
        return this.liveSet;
    }

    /**
     * Whether infinitely many strings lead from the start through `allowed` states only: a cycle among them,
     * or an edge on OTHER (which stands for infinitely many characters) between them.
     */
    unbounded(allowed: Uint8Array): boolean {
        if (!allowed[0]) return false;
        const n = this.count;
        const C = this.members.length;
        const color = new Uint8Array(n); // 0 white, 1 on stack, 2 done
        // Depth-first: the state on each level of the stack and the next class to try from it.
        const states = new Int32Array(n);
        const next = new Int32Array(n);
        let top = 0;
        states[0] = 0;
        next[0] = 0;
        color[0] = 1;
        while (top >= 0) {
            const s = states[top]!;
            const i = next[top]!;
            if (i >= C) {
                color[s] = 2;
                top--;
                continue;
            }
            next[top] = i + 1;
            const t = this.tab[s * C + i]!;
            if (t < 0 || !allowed[t]) continue;
            if (i === this.otherClass) return true;
            if (color[t] === 1) return true;
            if (color[t] === 0) {
                color[t] = 1;
                top++;
                states[top] = t;
                next[top] = 0;
            }
        }
        return false;
    }

    /**
     * Whether the members in passenger `form`'s language (every member when `form` is null) have infinitely many
     * keys, a member's key being its prefix that passenger `key` accepts: what {@link unbounded} answers over the
     * states that reach a key end from which a member in the form goes on, through states where the key is still
     * alive (a test compares the two). Decided from the start through the states before a key ends, depth-first,
     * stopping at the first loop (or edge on OTHER) among them that leads to such a key end: the states after the
     * keys, most of a subject's product, are explored only as far as it takes to reach one member, and the
     * product's reverse edges are never built.
     */
    keysUnbounded(form: number | null, key: number): boolean {
        const C = this.members.length;
        const dead = this.deadState;
        const region = (s: number): boolean => s !== dead && !this.passengerDead(s, key);
        // Per state: 1 yes, 2 no, 0 not known yet (arrays grow: the searches make states).
        let memberAhead = new Uint8Array(this.count + 16);
        let keyEndAhead = new Uint8Array(memberAhead.length);
        /** Whether `goal` holds at a state reachable from `from` through states `within` accepts; memoized. */
        const reaches = (from: number, goal: (s: number) => boolean, within: (s: number) => boolean, known: () => Uint8Array, grow: (t: number) => void): boolean => {
            if (from >= known().length) grow(from);
            if (known()[from] !== 0) return known()[from] === 1;
            const seen = [from];
            const marks = new Set<number>([from]);
            for (let i = 0; i < seen.length; i++) {
                const st = seen[i]!;
                if (st >= known().length) grow(st);
                const k = known()[st]!;
                if (k === 2) continue;
                if (k === 1 || goal(st)) {
                    known()[from] = 1;
                    return true;
                }
                this.row(st);
                for (let cls = 0; cls < C; cls++) {
                    const t = this.stepClass(st, cls);
                    if (t === dead || marks.has(t) || !within(t)) continue;
                    marks.add(t);
                    seen.push(t);
                }
            }
            // Nothing reachable from these states meets the goal: neither does anything from any of them.
            for (const st of seen) {
                if (st >= known().length) grow(st);
                known()[st] = 2;
            }
            return false;
        };
        const isMember = (st: number): boolean => this.acc[st]! && (form === null || this.passengerAccepting(st, form));
        const memberFrom = (st: number): boolean =>
            reaches(st, isMember, (t) => t !== dead, () => memberAhead, (t) => (memberAhead = grown(memberAhead, t)));
        const isKeyEnd = (st: number): boolean => this.passengerAccepting(st, key) && memberFrom(st);
        const keyEndFrom = (st: number): boolean =>
            reaches(st, isKeyEnd, region, () => keyEndAhead, (t) => (keyEndAhead = grown(keyEndAhead, t)));

        if (!region(0)) return false;
        // Depth-first from the start through the region: a loop closes on a state still on the stack.
        let color = new Uint8Array(this.count + 16); // 0 white, 1 on the stack, 2 done
        const states: number[] = [0];
        const next: number[] = [0];
        color[0] = 1;
        while (states.length > 0) {
            const top = states.length - 1;
            const st = states[top]!;
            const cls = next[top]!;
            if (cls === 0) this.row(st);
            if (cls >= C) {
                color[st] = 2;
                states.pop();
                next.pop();
                continue;
            }
            next[top] = cls + 1;
            const t = this.stepClass(st, cls);
            if (t === dead || !region(t)) continue;
            if (t >= color.length) color = grown(color, t);
            // A loop through t (or infinitely many characters into t), with a key end and a member after it.
            if ((color[t] === 1 || cls === this.otherClass) && keyEndFrom(t)) return true;
            if (color[t] === 0) {
                color[t] = 1;
                states.push(t);
                next.push(0);
            }
        }
        return false;
    }

    /** Whether the language has infinitely many members (over the infinite character set). */
    isInfinite(): boolean {
        // A property of the language: decided once per product (enumeration asks it again after the decider did).
        if (this.infinite === null) this.infinite = (!this.explored && this.pumps()) || this.unbounded(this.live());
        return this.infinite;
    }

    private infinite: boolean | null = null;

    /**
     * Explores the product depth-first and stops at the first proof that it is infinite: a reachable state with a
     * loop, or a reachable edge on OTHER (infinitely many characters), into a state from which an accepting state
     * is reachable (checked by a forward search, at most `MAX_PUMP_CHECKS` times). False when exploration ends
     * without one: the exact test (`unbounded` over the live states) then runs on the explored product. Infinite
     * languages, the usual case with a wildcard, are so decided without exploring the whole product.
     */
    private pumps(): boolean {
        let checks = 0;
        return this.explore(
            (s, cls, t) => {
                if (t === this.deadState || (t !== s && cls !== this.otherClass) || checks >= MAX_PUMP_CHECKS) return false;
                checks++;
                return this.reachesAccepting(t);
            },
            0,
            true,
        );
    }

    /** Whether an accepting state is reachable from `from`: depth-first, down one member to where it ends. */
    private reachesAccepting(from: number): boolean {
        return this.acc[from]! || this.explore((_s, _cls, t) => this.acc[t]!, from, true);
    }

    /** The state of passenger `j` in product state `s` (-1 in the dead state). */
    passenger(s: number, j: number): number {
        return this.tup[s * this.leaves.length + this.firstPassenger + j]!;
    }

    passengerAccepting(s: number, j: number): boolean {
        const st = this.passenger(s, j);
        return st >= 0 && this.leaves[this.firstPassenger + j]!.accepting(st);
    }

    passengerDead(s: number, j: number): boolean {
        const st = this.passenger(s, j);
        return st < 0 || this.leaves[this.firstPassenger + j]!.sink?.(st) === "dead";
    }

    /**
     * All members when the language is finite and has at most `cap` of them, in a stable order
     * (shorter first, readable characters first); null otherwise.
     */
    enumerate(cap: number): string[] | null {
        if (this.infinite === true) return null;
        const counts = this.memberCounts(cap);
        if (counts === null) return null;
        if (counts[0] === 0) return [];
        const out: string[] = [];
        let level: Array<[number, string]> = [[0, ""]];
        while (level.length > 0) {
            const nextLevel: Array<[number, string]> = [];
            for (const [s, w] of level) {
                if (this.acc[s]) out.push(w);
                for (let cls = 0; cls < this.members.length; cls++) {
                    const t = this.edge(s, cls);
                    if (t < 0 || !counts[t]) continue;
                    for (const sym of this.members[cls]!) nextLevel.push([t, w + this.alphabet.char(sym)]);
                }
            }
            level = nextLevel;
        }
        return out;
    }

    /**
     * Per state, how many members lead from it: exact for every reachable state when the language is finite with at
     * most `cap` members (the product is then explored); null as soon as a state has more than `cap` (the start has
     * at least as many) or the language is found infinite. Depth-first from the start, counted as each state is left:
     * a large finite language (every stack of a Deployments pattern list) is given up on after about `cap` members,
     * not explored whole first to learn that it is finite. A loop, or an edge on OTHER, into a state from which a
     * member is reachable means infinitely many: decided when that state is left (its count is then known), or at
     * once by a forward search, as {@link pumps} does, for the first `MAX_PUMP_CHECKS` of them.
     */
    private memberCounts(cap: number): Int32Array | null {
        const C = this.members.length;
        let color = new Uint8Array(this.count + 16); // 0 not seen, 1 on the stack, 2 counted
        let counts = new Int32Array(color.length);
        /** Per state on the stack: whether a loop (or an edge on OTHER) leads into it. */
        let loopInto = new Uint8Array(color.length);
        const grow = (t: number): void => {
            color = grown(color, t);
            loopInto = grown(loopInto, t);
            const longer = new Int32Array(color.length);
            longer.set(counts);
            counts = longer;
        };
        let checks = 0;
        /** A loop into `t`: infinite at once when a member is known to follow it. */
        const loopFound = (t: number): boolean => {
            loopInto[t] = 1;
            if (checks >= MAX_PUMP_CHECKS) return false;
            checks++;
            return this.reachesAccepting(t);
        };
        // Classes last first, as `explore` goes depth-first: down a pattern's wildcard before its literal branches.
        const states: number[] = [0];
        const next: number[] = [C - 1];
        color[0] = 1;
        counts[0] = this.acc[0] ? 1 : 0;
        while (states.length > 0) {
            const top = states.length - 1;
            const s = states[top]!;
            const cls = next[top]!;
            if (cls === C - 1) this.row(s);
            if (cls < 0) {
                color[s] = 2;
                states.pop();
                next.pop();
                if (counts[s]! > 0 && loopInto[s]) {
                    this.infinite = true;
                    return null;
                }
                if (top > 0) {
                    const p = states[top - 1]!;
                    counts[p] = Math.min(cap + 1, counts[p]! + counts[s]! * this.members[next[top - 1]! + 1]!.length);
                    if (counts[p] > cap) return null;
                }
                continue;
            }
            next[top] = cls - 1;
            const t = this.stepClass(s, cls);
            // The dead state is read each time: a row may make it.
            if (t === this.deadState) continue;
            if (t >= color.length) grow(t);
            const other = cls === this.otherClass;
            if (color[t] === 2) {
                if (counts[t] === 0) continue;
                if (other) {
                    this.infinite = true;
                    return null;
                }
                counts[s] = Math.min(cap + 1, counts[s]! + counts[t]! * this.members[cls]!.length);
                if (counts[s] > cap) return null;
                continue;
            }
            if ((color[t] === 1 || other) && loopFound(t)) {
                this.infinite = true;
                return null;
            }
            if (color[t] === 1) continue;
            color[t] = 1;
            counts[t] = this.acc[t] ? 1 : 0;
            states.push(t);
            next.push(C - 1);
        }
        this.infinite = false;
        this.explored = true;
        // The start's own count is checked here: every other state's is checked as its predecessor adds it.
        if (counts[0] > cap) return null;
        return counts;
    }

    /** A view of this (explored) product whose accepting states are its live states: the prefixes of its members. */
    prefixes(): Automaton {
        const live = this.live();
        return {
            start: 0,
            step: (s, sym) => this.step(s, sym),
            accepting: (s) => live[s] === 1,
            sink: (s) => (live[s] === 1 ? null : "dead"),
            symbolClass: (sym) => this.symbolClass(sym),
            stepClass: (s, cls) => this.stepClass(s, cls),
        };
    }

    get size(): number {
        return this.count;
    }
}

/** A copy of `a` long enough to index `i`. */
function grown(a: Uint8Array, i: number): Uint8Array<ArrayBuffer> {
    const b = new Uint8Array(Math.max(i + 1, a.length * 2));
    b.set(a);
    return b;
}

let nextSharedId = 0;

/** Marks an automaton as process-wide, so boolean decisions over such automata alone are memoized. */
export function shareDfa(d: LazyDfa): LazyDfa {
    d.sharedId = nextSharedId++;
    return d;
}

/** A Map that keeps at most `max` entries, dropping the least recently used one (process-wide caches stay bounded). */
export class BoundedCache<K, V> {
    /** Two generations: entries used since the last turnover, and those of the generation before. */
    private young = new Map<K, V>();
    private old = new Map<K, V>();
    constructor(readonly max: number) {}
    get(k: K): V | undefined {
        const v = this.young.get(k);
        if (v !== undefined) return v;
        const o = this.old.get(k);
        if (o !== undefined) this.set(k, o);
        return o;
    }
    set(k: K, v: V): void {
        this.young.set(k, v);
        // Past half the bound the young generation becomes the old one and the old one is dropped: at most `max`
        // entries, and whatever was used in the last half-bound of insertions survives (a hit costs no reordering).
        if (this.young.size >= Math.max(1, this.max >> 1)) {
            this.old = this.young;
            this.young = new Map();
        }
    }
    get size(): number {
        let n = this.young.size;
        for (const k of this.old.keys()) if (!this.young.has(k)) n++;
        return n;
    }
}

/** Distinct condition patterns (and literal sets) kept compiled per process; the least recently used go first. */
const PATTERN_CACHE_ENTRIES = 2048;
/**
 * Longer keys are not kept process-wide: the caches are bounded by their count of entries, and a condition of
 * 150,000 values would leave a 6 MB key and an automaton of millions of NFA states in each (large lists rarely
 * repeat; the shape cache leaves out documents past 16 KiB for the same reason).
 */
const SHARED_KEY_MAX_CHARS = 16 * 1024;
const patternDfas = new BoundedCache<string, LazyDfa>(PATTERN_CACHE_ENTRIES);
const ASCII_ONLY = /^[\x20-\x7e]*$/;
/** Grammar-free alphabet for patterns that name printable ASCII only (every other character reads as OTHER). */
const asciiAlphabet = new Alphabet();
asciiAlphabet.freeze();

/**
 * The process-wide automaton of a pattern language whose values are printable ASCII: compiled once per distinct
 * `key` and reused by every later document (its explored states and, being shared, the memoized decisions over
 * it); a key longer than 16 KiB is kept in `local` only, the analysis's own. Such an automaton names no character
 * beyond ASCII, so reading every other character as OTHER is exact in any document's alphabet. Null when a value
 * names another character: the caller builds a per-document one.
 */
export function sharedPatternDfa(
    key: string,
    values: readonly string[],
    build: (alphabet: Alphabet) => Rx,
    budget?: Budget,
    local?: Map<string, LazyDfa>,
): LazyDfa | null {
    if (!values.every((v) => ASCII_ONLY.test(v))) return null;
    // A long list is this document's own: kept in the analysis's `local` map, not for the rest of the process. Its
    // automaton still has an id, so the decisions about it are found again (their keys name the id, not the values).
    const store = storeFor(key, patternDfas, local ?? new Map<string, LazyDfa>());
    let d = store.get(key);
    if (!d) {
        // Cached only once built: a budget that runs out while building leaves nothing half made behind.
        d = shareDfa(new LazyDfa(build(asciiAlphabet), BASE_WIDTH, OTHER, budget));
        store.set(key, d);
    }
    return d;
}

/** The printable-ASCII alphabet shared patterns are compiled over (frozen: it registers nothing). */
export function sharedAlphabetFor(values: readonly string[]): Alphabet | null {
    return values.every((v) => ASCII_ONLY.test(v)) ? asciiAlphabet : null;
}

/**
 * Per pattern automaton, the literal head of each of its values: every member starts with one of them (a value
 * `p*x`, `p?x` or `p${v}x` starts with `p`). Noted by the condition compiler, for case-sensitive values only.
 */
const literalHeads = new WeakMap<Automaton, readonly string[]>();

/** Per pattern automaton and key automaton: whether no key goes on past any of the pattern's heads. */
const headsFixKeys = new WeakMap<Automaton, WeakMap<Automaton, boolean>>();

/**
 * Notes that every member of `a` starts with one of `heads` (see {@link Decider.confinement}). Once per automaton: a
 * shared pattern is compiled again for every clause that writes its values, and `heads` runs over all of them.
 */
export function noteLiteralHeads(a: Automaton, heads: () => readonly string[]): void {
    if (!literalHeads.has(a)) literalHeads.set(a, heads());
}

/**
 * Whether no key goes on past `head`: the key automaton dies within it, or can take no further character at its
 * end. A member that starts with `head` then has only prefixes of `head` for keys.
 */
function keysEndWithin(key: Automaton, alphabet: Alphabet, head: string): boolean {
    const st = runString(key, alphabet, head, true);
    if (st === DIED) return true;
    return key instanceof LazyDfa && key.liveClasses(st).length === 0;
}

/** The keys of finite sets, once per list (a list of 150,000 values is asked about many times in an analysis). */
const finiteKeys = new WeakMap<readonly string[], string | null>();

function finiteKey(items: readonly string[]): string | null {
    let k = finiteKeys.get(items);
    if (k === undefined) {
        k = items.every((i) => ASCII_ONLY.test(i)) ? `F${JSON.stringify(items)}` : null;
        finiteKeys.set(items, k);
    }
    return k;
}

/** Where a decision under `key` is kept: process-wide when the key is short, else in the analysis's own `local`. */
function storeFor<V>(key: string, shared: BoundedCache<string, V>, local: Map<string, V>): { get(k: string): V | undefined; set(k: string, v: V): void } {
    return key.length > SHARED_KEY_MAX_CHARS ? local : shared;
}

/** A structural key for a Lang whose leaves are all shared automata; null otherwise. */
function sharedKey(l: Lang): string | null {
    switch (l.k) {
        case "all":
            return "A";
        case "none":
            return "N";
        case "finite":
            // Decided on the shared automaton of the same items (Decider.automatize) when they are ASCII.
            return finiteKey(l.items);
        case "leaf":
            return l.a instanceof LazyDfa && l.a.sharedId !== null ? `#${l.a.sharedId}` : null;
        case "not": {
            const k = sharedKey(l.x);
            return k === null ? null : `!${k}`;
        }
        case "and":
        case "or": {
            const ks = l.xs.map(sharedKey);
            return ks.some((k) => k === null) ? null : `${l.k}(${ks.join(",")})`;
        }
    }
}

/** Sets of the long finite lists (a condition can list 150,000 values: a linear search per question was quadratic). */
const finiteSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function finiteHas(items: readonly string[], s: string): boolean {
    if (items.length <= 32) return items.includes(s);
    let set = finiteSets.get(items);
    if (set === undefined) finiteSets.set(items, (set = new Set(items)));
    return set.has(s);
}

/** What {@link runString} returns when `untilSink` stops it at a dead state. */
const DIED = -2;

/**
 * The state `a` reaches from `from` (its start by default) over the code points of `s`, read without an array of
 * symbols (a string is often asked about once: 150,000 values of a condition each tried against the other
 * conditions). With `untilSink` it stops early: DIED at a dead state, and the state itself at a universal one.
 */
function runString(a: Automaton, alphabet: Alphabet, s: string, untilSink = false, from = a.start): number {
    let st = from;
    for (let i = 0; i < s.length; i++) {
        const unit = s.charCodeAt(i);
        let sym: number;
        if (unit >= 0x20 && unit <= 0x7e) {
            sym = unit - 0x20;
        } else {
            const cp = s.codePointAt(i)!;
            if (cp > 0xffff) i++;
            sym = alphabet.lookup(String.fromCodePoint(cp));
        }
        st = a.step(st, sym);
        if (untilSink && a.sink !== undefined) {
            const sink = a.sink(st);
            if (sink === "dead") {
                diedAfter = i + 1;
                return DIED;
            }
            if (sink === "universal") return st;
        }
    }
    return st;
}

/** Where the last {@link runString} that returned DIED stopped: how many code units it had read. */
let diedAfter = 0;

/**
 * How many code units of `s` `a` reads before it reaches a dead state (the dead state is reached on the last of
 * them), or -1 when it never does: then `s` is prefix-live, as {@link runString} with `untilSink` says (a universal
 * state is live too). Every string that starts with those code units dies there as well.
 */
function deathIndex(a: Automaton, alphabet: Alphabet, s: string): number {
    return runString(a, alphabet, s, true) === DIED ? diedAfter : -1;
}

/** Bounded: with condition patterns shared, every distinct pattern of a large estate adds decisions here. */
const SHARED_DECISIONS = 50_000;
const sharedDecisions = new BoundedCache<string, boolean>(SHARED_DECISIONS);
const sharedConfinement = new BoundedCache<string, boolean[]>(SHARED_DECISIONS);
/**
 * Enumerations of shared languages, bounded by count and by size: a list longer than this many characters in all
 * is kept by the analysis only, so the process-wide store holds at most SHARED_ENUMERATIONS x 8 KiB.
 */
const SHARED_ENUMERATIONS = 1024;
const SHARED_ENUMERATION_MAX_CHARS = 8 * 1024;
const sharedEnumerations = new BoundedCache<string, readonly string[] | null>(SHARED_ENUMERATIONS);

/**
 * Shared automata read every character a document names beyond ASCII alike (grammar: as a non-name character,
 * patterns: as OTHER), so a decision over them depends only on whether the document names such a character.
 */
function alphabetTag(alphabet: Alphabet): string {
    return alphabet.width > BASE_WIDTH ? "x" : "a";
}

function memo(kind: string, keys: Array<string | null>, local: Map<string, boolean>, decide: () => boolean): boolean {
    if (keys.some((k) => k === null)) return decide();
    const key = `${kind}:${keys.join("|")}`;
    const store = storeFor(key, sharedDecisions, local);
    const known = store.get(key);
    if (known !== undefined) return known;
    const v = decide();
    store.set(key, v);
    return v;
}

/**
 * How a candidate list is walked through a product: per candidate, whether it is printable ASCII (its symbols are
 * its character codes, whatever the document's alphabet) and how many characters it shares with the one before.
 * Candidate lists are built once per analysis and asked about many languages.
 */
export interface CandidateWalk {
    ascii: Uint8Array;
    /** lcp[i]: the length of the common prefix of candidates i-1 and i (0 for the first). */
    lcp: Int32Array;
}

const candidateWalks = new WeakMap<readonly string[], CandidateWalk>();

function candidateWalk(candidates: readonly string[]): CandidateWalk {
    let w = candidateWalks.get(candidates);
    if (!w) {
        const ascii = new Uint8Array(candidates.length);
        const lcp = new Int32Array(candidates.length);
        for (let i = 0; i < candidates.length; i++) {
            const c = candidates[i]!;
            ascii[i] = ASCII_ONLY.test(c) ? 1 : 0;
            if (i === 0) continue;
            const prev = candidates[i - 1]!;
            const n = Math.min(prev.length, c.length);
            let k = 0;
            while (k < n && prev.charCodeAt(k) === c.charCodeAt(k)) k++;
            lcp[i] = k;
        }
        w = { ascii, lcp };
        candidateWalks.set(candidates, w);
    }
    return w;
}

/** Readable order of strings: shorter first, then by the witness symbol order. */
function readableCompare(alphabet: Alphabet): (a: string, b: string) => number {
    // Symbols the alphabet registers later (and any not in the order) rank 0.
    const rank = new Int32Array(alphabet.width);
    symbolOrder(alphabet.width).forEach((sym, i) => {
        rank[sym] = i;
    });
    const rankOf = (c: string): number => rank[alphabet.lookup(c)] ?? 0;
    return (a, b) => {
        if (a === b) return 0;
        if (SURROGATE.test(a) || SURROGATE.test(b)) {
            // Code points, not code units: a character beyond the BMP is one symbol.
            const x = Array.from(a, rankOf);
            const y = Array.from(b, rankOf);
            if (x.length !== y.length) return x.length - y.length;
            for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
            return 0;
        }
        // One code unit per symbol: compared in place (a list of 150,000 values is searched for its first).
        if (a.length !== b.length) return a.length - b.length;
        for (let i = 0; i < a.length; i++) {
            const x = a.charCodeAt(i);
            const y = b.charCodeAt(i);
            if (x === y) continue;
            const d = rankOf(a[i]!) - rankOf(b[i]!);
            if (d !== 0) return d;
        }
        return 0;
    };
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Decides Langs. Finite sets are kept explicit as long as possible (an intersection with a finite set is
 * the set filtered by membership), so literal-only policies never build a product automaton.
 */
export class Decider {
    private readonly finiteDfas = new Map<readonly string[], LazyDfa>();
    /** Decisions whose keys are too long to keep process-wide (a list of thousands of values): this analysis's. */
    private readonly localDecisions = new Map<string, boolean>();
    private readonly localConfinement = new Map<string, boolean[]>();
    private readonly localEnumerations = new Map<string, readonly string[] | null>();
    private readonly localDfas = new Map<string, LazyDfa>();
    private readonly compare: (a: string, b: string) => number;

    constructor(
        readonly alphabet: Alphabet,
        readonly budget: Budget,
    ) {
        this.compare = readableCompare(alphabet);
    }

    private readonly simplified = new WeakMap<Lang, Lang>();

    /** Folds finite sets through `and`/`or`; the result is `finite` whenever that is easy to see. */
    simplify(l: Lang): Lang {
        if (l.k === "all" || l.k === "none" || l.k === "leaf" || l.k === "finite") return l;
        const known = this.simplified.get(l);
        if (known) return known;
        const result = this.simplifyOnce(l);
        this.simplified.set(l, result);
        // Simplified is simplified: asking again (enumerate asks isInfinite) must find the same object, whose
        // product is then the one already explored.
        if (result.k === "and" || result.k === "or" || result.k === "not") this.simplified.set(result, result);
        return result;
    }

    private simplifyOnce(l: Lang): Lang {
        switch (l.k) {
            case "and": {
                const xs = l.xs.map((x) => this.simplify(x));
                const f = xs.find((x) => x.k === "finite");
                if (!f || f.k !== "finite") return andOf(xs);
                const others = xs.filter((x) => x !== f);
                return finite(
                    f.items.filter((item) => {
                        this.budget.tick();
                        return others.every((o) => this.contains(o, item));
                    }),
                );
            }
            case "or": {
                const xs = l.xs.map((x) => this.simplify(x));
                if (xs.every((x) => x.k === "finite" || x.k === "none")) {
                    return finite(xs.flatMap((x) => (x.k === "finite" ? x.items : [])));
                }
                return orOf(xs);
            }
            case "not":
                return not(this.simplify(l.x));
            default:
                return l;
        }
    }

    /** Replaces finite sets by automata so the Lang can be run as a product. */
    private automatize(l: Lang): Lang {
        switch (l.k) {
            case "finite": {
                let d = this.finiteDfas.get(l.items);
                if (!d) {
                    // The same key as the decisions about the set (built once per list; null when it is not ASCII).
                    const key = finiteKey(l.items);
                    d =
                        (key === null ? null : sharedPatternDfa(key, l.items, (a) => rx.altOf(l.items.map((i) => rx.lit(i, a))), this.budget, this.localDfas)) ??
                        new LazyDfa(rx.altOf(l.items.map((i) => rx.lit(i, this.alphabet))), this.alphabet.width, OTHER, this.budget);
                    this.finiteDfas.set(l.items, d);
                }
                return leaf(d);
            }
            case "and":
                return andOf(this.joinExclusions(l.xs.map((x) => this.automatize(x))));
            case "or":
                return orOf(l.xs.map((x) => this.automatize(x)));
            case "not":
                return not(this.automatize(l.x));
            default:
                return l;
        }
    }

    /** Automata numbered for the keys of {@link joinExclusions} (this analysis's). */
    private readonly automatonIds = new WeakMap<Automaton, number>();
    private nextAutomatonId = 0;
    private readonly exclusions = new Map<string, Product>();

    /**
     * Conjuncts that exclude an automaton's language (a Deny's subjects, one per Deny) become one: "in none of
     * them", run as one product of their union, which every product of this analysis with the same exclusions shares
     * (each statement of a document is checked against all its Denies). A product then steps one leaf for them
     * all, and their states are worked out once.
     */
    private joinExclusions(xs: Lang[]): Lang[] {
        const excluded: Automaton[] = [];
        const rest: Lang[] = [];
        for (const x of xs) {
            if (x.k === "not" && x.x.k === "leaf") excluded.push(x.x.a);
            else rest.push(x);
        }
        if (excluded.length < 2) return xs;
        const key = excluded
            .map((a) => {
                let id = this.automatonIds.get(a);
                if (id === undefined) {
                    id = this.nextAutomatonId++;
                    this.automatonIds.set(a, id);
                }
                return id;
            })
            .join(",");
        let union = this.exclusions.get(key);
        if (!union) {
            union = new Product(orOf(excluded.map(leaf)), this.alphabet, this.budget);
            this.exclusions.set(key, union);
        }
        return [...rest, not(leaf(union))];
    }

    private readonly products = new WeakMap<Lang, Product>();

    /** The product automaton of a Lang; one per Lang object, so later questions reuse what was explored. */
    product(l: Lang): Product {
        let p = this.products.get(l);
        if (!p) {
            p = new Product(this.automatize(l), this.alphabet, this.budget);
            this.products.set(l, p);
        }
        return p;
    }

    /**
     * Members made up by the witness search (shortest, readable characters first) rather than taken from a finite
     * set or a candidate list: their free characters follow the preference order, not the document.
     */
    readonly madeUp: string[] = [];

    witness(l: Lang): string | null {
        const s = this.simplify(l);
        if (s.k === "none") return null;
        if (s.k === "finite") {
            // The first in readable order: one pass (sorting 150,000 values for their first took most of a second).
            let first: string | null = null;
            for (const item of s.items) {
                this.budget.tick();
                if (first === null || this.compare(item, first) < 0) first = item;
            }
            return first;
        }
        const w = this.product(s).witness();
        if (w !== null) this.madeUp.push(w);
        return w;
    }

    isEmpty(l: Lang): boolean {
        const s = this.simplify(l);
        if (s.k === "none") return true;
        if (s.k === "finite") return s.items.length === 0;
        return memo("empty", [alphabetTag(this.alphabet), sharedKey(s)], this.localDecisions, () => this.product(s).isEmpty());
    }

    isInfinite(l: Lang): boolean {
        const s = this.simplify(l);
        if (s.k === "none" || s.k === "finite") return false;
        return memo("inf", [alphabetTag(this.alphabet), sharedKey(s)], this.localDecisions, () => this.product(s).isInfinite());
    }

    /**
     * The shortest string (readable characters first, as `witness`) after which at least `least` of `endings` each
     * complete a member of `l`; null when there is none. One breadth-first search of `l`'s product, in which a state
     * is found when reading `least` of the endings from it ends in accepting states. It answers "which stack takes two
     * operations" on the language itself, finite or infinite, where listing the members gives up past a cap.
     * Not recorded in {@link madeUp}, unlike a witness: its one caller searches Deployments sets whose stacks are
     * spelled literally (a wildcard in a name makes them infinitely many, which other blast classes report), so the
     * string found is the document's own text.
     */
    prefixCompletedBy(l: Lang, endings: readonly string[], least: number): string | null {
        const s = this.simplify(l);
        if (s.k === "none") return null;
        if (s.k === "finite") {
            const counts = new Map<string, number>();
            for (const m of s.items) {
                this.budget.tick();
                for (const ending of endings) {
                    if (m.endsWith(ending)) {
                        const prefix = m.slice(0, m.length - ending.length);
                        counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
                    }
                }
            }
            let first: string | null = null;
            for (const [prefix, n] of counts) if (n >= least && (first === null || this.compare(prefix, first) < 0)) first = prefix;
            return first;
        }
        const p = this.product(s);
        const completes = (state: number, ending: string): boolean => {
            const t = runString(p, this.alphabet, ending, true, state);
            return t !== DIED && p.accepting(t);
        };
        return p.witness((state) => {
            let n = 0;
            for (const ending of endings) if (completes(state, ending) && ++n >= least) return true;
            return false;
        });
    }

    /** All members in readable order when finitely many (at most `cap`); null otherwise. */
    enumerate(l: Lang, cap: number): string[] | null {
        const s = this.simplify(l);
        if (s.k === "none") return [];
        if (s.k === "finite") return s.items.length > cap ? null : [...s.items].sort(this.compare);
        // Not asked whether it is infinite first: listing finds that out, and gives up on a large finite language
        // after about `cap` members, where deciding finiteness would explore its whole product.
        // Memoized like the decisions: a set whose confinement was decided before (a memo hit, so its product was
        // never explored) is not explored again only to be listed.
        const key = sharedKey(s);
        if (key === null) return this.product(s).enumerate(cap);
        const memoKey = `enum:${alphabetTag(this.alphabet)}|${cap}|${key}`;
        // `null` (more than `cap` members) is an answer too: `??` would take it for a miss.
        let known = sharedEnumerations.get(memoKey);
        if (known === undefined) known = this.localEnumerations.get(memoKey);
        if (known === undefined) {
            known = this.product(s).enumerate(cap);
            let chars = memoKey.length;
            for (const m of known ?? []) chars += m.length;
            if (chars <= SHARED_ENUMERATION_MAX_CHARS) sharedEnumerations.set(memoKey, known);
            else this.localEnumerations.set(memoKey, known);
        }
        return known === null ? null : [...known];
    }

    /**
     * Whether the members' keys are infinitely many, where a member's key is its prefix in the language `key`
     * (e.g. `pulumi:environments:org:<org>:env:<project>/`).
     */
    keysInfinite(members: Lang, key: Lang): boolean {
        const s = this.simplify(members);
        if (s.k === "none" || s.k === "finite") return false;
        return memo("keys", [alphabetTag(this.alphabet), sharedKey(s), sharedKey(key)], this.localDecisions, () => {
            const p = this.product(s);
            if (p.isEmpty()) return false;
            return new Product(and(leaf(p.prefixes()), this.automatize(key)), this.alphabet, this.budget).isInfinite();
        });
    }

    /**
     * {@link keysInfinite} for each of `keys`. When every key is one automaton they ride along in one product of the
     * members, searched from the start up to the keys as {@link confinement} does (the members' whole product is
     * not explored); else one question per key.
     */
    keysInfiniteEach(members: Lang, keys: readonly Lang[]): boolean[] {
        const s = this.simplify(members);
        if (s.k === "none" || s.k === "finite") return keys.map(() => false);
        const leaves = keys.map((k) => this.automatize(k));
        if (leaves.some((l) => l.k !== "leaf")) return keys.map((k) => this.keysInfinite(s, k));
        let p: Product | undefined;
        const riding = (): Product => (p ??= this.withPassengers(s, leaves.map((l) => (l as { k: "leaf"; a: Automaton }).a)));
        return keys.map((k, i) =>
            memo("keys", [alphabetTag(this.alphabet), sharedKey(s), sharedKey(k)], this.localDecisions, () => riding().keysUnbounded(null, i)),
        );
    }

    /** Products of a Lang built with passengers, and those passengers (one per Lang). */
    private readonly passengerProducts = new WeakMap<Lang, { p: Product; passengers: readonly Automaton[] }>();

    /**
     * The product of `l` with `passengers` riding along, built once: it is also registered as the product of `l`
     * (passengers take no part in acceptance), so emptiness, finiteness and enumeration of `l` and the confinement
     * questions all explore one product.
     */
    private withPassengers(l: Lang, passengers: readonly Automaton[]): Product {
        const known = this.passengerProducts.get(l);
        if (known && known.passengers.length === passengers.length && known.passengers.every((a, i) => a === passengers[i])) return known.p;
        const p = new Product(this.automatize(l), this.alphabet, this.budget, passengers);
        this.passengerProducts.set(l, { p, passengers });
        if (!known) this.products.set(l, p);
        return p;
    }

    /**
     * Prepares `scoped` for {@link confinement} with `forms` before any other question is asked about it, so the
     * one product serves them all. Does nothing when the Lang already has a product.
     */
    prepareConfinement(scoped: Lang, forms: ReadonlyArray<{ form: Lang; key: Lang }>): void {
        const s = this.simplify(scoped);
        if (s.k === "none" || s.k === "finite" || this.products.has(s)) return;
        const leaves = forms.flatMap((f) => [this.automatize(f.form), this.automatize(f.key)]);
        if (leaves.some((x) => x.k !== "leaf")) return;
        this.withPassengers(s, leaves.map((x) => (x as { k: "leaf"; a: Automaton }).a));
    }

    /**
     * For members of `scoped`: per form, whether the members in that form have infinitely many keys (prefixes
     * in the form's key language). One product serves every question: the forms and keys ride along as passengers.
     */
    confinement(scoped: Lang, forms: ReadonlyArray<{ form: Lang; key: Lang }>): { keyed: boolean[] } {
        const s = this.simplify(scoped);
        if (s.k === "none" || s.k === "finite") return { keyed: forms.map(() => false) };
        const leafOf = (l: Lang): Automaton => {
            const a = this.automatize(l);
            if (a.k !== "leaf") throw new Error("internal: forms and keys must be single automata");
            return a.a;
        };
        const decide = (): boolean[] => {
            // Read off the patterns first: a level whose keys the literal heads fix needs no search of the product.
            const fixed = forms.map((f) => this.keysFixedByHeads(s, leafOf(f.key)));
            if (fixed.every(Boolean)) return forms.map(() => false);
            const p = this.withPassengers(s, forms.flatMap((f) => [leafOf(f.form), leafOf(f.key)]));
            return forms.map((_, i) => !fixed[i] && p.keysUnbounded(2 * i, 2 * i + 1));
        };
        const key = sharedKey(s);
        let result: boolean[];
        if (key !== null && forms.every((f) => sharedKey(f.form) !== null && sharedKey(f.key) !== null)) {
            const memoKey = `conf:${alphabetTag(this.alphabet)}|${key}|${forms.map((f) => `${sharedKey(f.form)}/${sharedKey(f.key)}`).join(",")}`;
            const store = storeFor(memoKey, sharedConfinement, this.localConfinement);
            result = store.get(memoKey) ?? decide();
            store.set(memoKey, result);
        } else {
            result = decide();
        }
        return { keyed: [...result] };
    }

    /**
     * Whether the members of `s` have finitely many keys in `key`, read off the patterns themselves: some conjunct of
     * `s` is a pattern each of whose values begins with a literal head that no key goes on past. Every member starts
     * with one of those heads, so its keys are prefixes of that head: at most one per head and length. A Deployments
     * statement that names each project and stack is so decided without a product. False: not known this way.
     */
    private keysFixedByHeads(s: Lang, key: Automaton): boolean {
        const parts = s.k === "and" ? s.xs : [s];
        return parts.some((x) => {
            if (x.k !== "leaf") return false;
            const heads = literalHeads.get(x.a);
            if (heads === undefined) return false;
            // Once per pattern and key: a list of 150,000 values is asked about at every level of every kind set.
            let byKey = headsFixKeys.get(x.a);
            if (byKey === undefined) headsFixKeys.set(x.a, (byKey = new WeakMap()));
            let fixed = byKey.get(key);
            if (fixed === undefined) {
                fixed = heads.every((h) => {
                    this.budget.tick();
                    return keysEndWithin(key, this.alphabet, h);
                });
                byKey.set(key, fixed);
            }
            return fixed;
        });
    }

    /**
     * Whether some member of a grammar language (its positive leaves: an over-approximation of `and`/`not`) starts
     * with `prefix`, or `prefix` starts with a member. Used to skip questions that cannot have an answer.
     */
    isPrefixLive(l: Lang, prefix: string): boolean {
        const live = (x: Lang): boolean => {
            switch (x.k) {
                case "all":
                case "not":
                    return true;
                case "none":
                    return false;
                case "finite":
                    return x.items.some((i) => i.startsWith(prefix) || prefix.startsWith(i));
                case "leaf": {
                    this.charge(x.a);
                    return runString(x.a, this.alphabet, prefix, true) !== DIED;
                }
                case "and":
                    return x.xs.every(live);
                case "or":
                    return x.xs.some(live);
            }
        };
        return live(l);
    }

    /**
     * Whether any of `prefixes` is prefix-live in `l` ({@link isPrefixLive}). A condition can list 150,000 values,
     * so this reads the clock as it goes, and for a single automaton skips every prefix that starts with the part of
     * an earlier one at whose end the automaton died (values that start alike die alike: a variant of another kind
     * rejects `pulumi:environments:` once, not once per value).
     */
    anyPrefixLive(l: Lang, prefixes: readonly string[]): boolean {
        if (l.k !== "leaf") {
            return prefixes.some((p) => {
                this.budget.tick();
                return this.isPrefixLive(l, p);
            });
        }
        this.charge(l.a);
        let dead: string | null = null;
        for (const p of prefixes) {
            this.budget.tick();
            if (dead !== null && p.startsWith(dead)) continue;
            const at = deathIndex(l.a, this.alphabet, p);
            if (at < 0) return true;
            dead = p.slice(0, at);
        }
        return false;
    }

    /** Shared automata outlive an analysis: states they add now are charged to this one's budget. */
    private charge(a: Automaton): void {
        if (a instanceof LazyDfa) a.budget = this.budget;
    }

    /** Whether a concrete string is in the language. */
    contains(l: Lang, s: string): boolean {
        const evalLang = (x: Lang): boolean => {
            switch (x.k) {
                case "all":
                    return true;
                case "none":
                    return false;
                case "finite":
                    return finiteHas(x.items, s);
                case "leaf": {
                    this.charge(x.a);
                    return x.a.accepting(runString(x.a, this.alphabet, s));
                }
                case "and":
                    return x.xs.every(evalLang);
                case "or":
                    return x.xs.some(evalLang);
                case "not":
                    return !evalLang(x.x);
            }
        };
        return evalLang(l);
    }

    /** The first candidate in the language, else a shortest readable member, else null. */
    pick(l: Lang, candidates: readonly string[]): string | null {
        const s = this.simplify(l);
        if (s.k === "none") return null;
        // Many candidates against one language: walked through its product, where most stop after a few symbols.
        const p = s.k === "finite" ? undefined : candidates.length > 16 ? this.product(s) : this.products.get(s);
        if (p) {
            const i = p.firstAccepted(candidates, candidateWalk(candidates), (c) => this.contains(s, c));
            return i >= 0 ? candidates[i]! : this.witness(s);
        }
        if (s.k === "finite") {
            const items = new Set(s.items);
            for (const c of candidates) if (items.has(c)) return c;
        } else {
            for (const c of candidates) if (this.contains(s, c)) return c;
        }
        return this.witness(s);
    }
}
