/**
 * The tokens Pulumi can issue, as regular languages (DOMAIN.md §5), and the default subject scope.
 * Grammar automata use printable ASCII only, so they are built once per process and shared by every analysis.
 */
import { Alphabet, BASE_WIDTH, BoundedCache, LazyDfa, OTHER, and, asciiClass, leaf, not, or, rx, shareDfa, type Lang, type Rx } from "./automata.js";

/**
 * A name (organization, project, environment, stack) is a run of Pulumi's name characters `[A-Za-z0-9_.-]` or of
 * OTHER, the symbol for characters no pattern in play names. Counting OTHER in makes a `?` or `*` inside a name
 * stand for unboundedly many names, so "are the organizations/projects finitely many" means "are they spelled
 * literally" (`pr?j/*` names projects by pattern, not only the 65 ASCII ones that fit). Characters a document does
 * name literally (`*` under StringEquals, `é`) are not name characters: such values match no token.
 */
export const DEPLOY_OPERATIONS = ["preview", "update", "refresh", "destroy"] as const;
/** The subject ESC reported for environments defined inline in stack config (pulumi/pulumi#14509). */
export const SHARED_YAML_ENV = "<yaml>";

const NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
/** Pulumi organization names are lowercase (DOMAIN.md §5): a pin on `Acme` admits no token. */
const ORG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
const ATTR_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";
/** Grammar automata read every named non-ASCII character as this symbol, which no class contains. */
const NAMED_EXTRA = BASE_WIDTH;

const ascii = new Alphabet(); // frozen: grammar literals are ASCII
ascii.freeze();
const lit = (s: string): Rx => rx.lit(s, ascii);
const anyRun: Rx = rx.star(rx.any);
const cls = (chars: string): Rx => rx.set([...asciiClass(chars), OTHER]);
const name: Rx = rx.plus(cls(NAME_CHARS));
const org: Rx = rx.plus(cls(ORG_CHARS));
/** `:<attribute>:<value>` of a subject-attribute subject. */
const attrPair: Rx = rx.seq(lit(":"), rx.plus(cls(ATTR_NAME_CHARS)), lit(":"), rx.plus(cls(NAME_CHARS + "@/")));
const ENV_ATTRS = ["currentEnvironment.name", "rootEnvironment.name"] as const;

const ESC_PREFIX = "pulumi:environments:org:";
const ATTR_PREFIX = "pulumi:environments:pulumi.organization.login:";
const DEPLOY_PREFIX = "pulumi:deploy:org:";
const CMK_PREFIX = "pulumi:cmk:pulumi.organization.login:";
/** Subject namespaces of the kinds the analysis models; any other `pulumi:` subject is another or future kind. */
const KNOWN_NAMESPACES = ["pulumi:environments:", "pulumi:deploy:", "pulumi:cmk:"] as const;

const ESC: Rx = rx.seq(lit(ESC_PREFIX), org, lit(":env:"), name, lit("/"), name);
const ESC_LEGACY: Rx = rx.seq(lit(ESC_PREFIX), org, lit(":env:"), name);
const ESC_YAML: Rx = rx.seq(lit(ESC_PREFIX), org, lit(`:env:${SHARED_YAML_ENV}`));
const DEPLOY: Rx = rx.seq(
    lit(DEPLOY_PREFIX),
    org,
    lit(":project:"),
    name,
    lit(":stack:"),
    name,
    lit(":operation:"),
    rx.altOf(DEPLOY_OPERATIONS.map(lit)),
    lit(":scope:write"),
);
const ATTR: Rx = rx.seq(lit(ATTR_PREFIX), org, rx.star(attrPair));
/**
 * `chars`+ other than any of `words`: the complement of a list of words, spelt out (the attribute names other than an
 * environment's).
 */
function allBut(chars: string, words: readonly string[]): Rx {
    const c = cls(chars);
    // A trie walk: at each node, any character no word continues with, then anything; a node no word ends at; and,
    // past a word's end, one or more characters.
    const walk = (prefix: string, ws: readonly string[]): Rx[] => {
        const alts: Rx[] = [];
        const next = new Map<string, string[]>();
        for (const w of ws) if (w.length > prefix.length) next.set(w[prefix.length]!, [...(next.get(w[prefix.length]!) ?? []), w]);
        const here = prefix === "" ? rx.eps : lit(prefix);
        const others = [...chars].filter((ch) => !next.has(ch));
        alts.push(rx.seq(here, cls(others.join("")), rx.star(c)));
        if (prefix !== "" && !ws.includes(prefix)) alts.push(here);
        if (prefix !== "" && ws.includes(prefix)) alts.push(rx.seq(here, rx.plus(c)));
        for (const [ch, group] of next) for (const a of walk(prefix + ch, group)) alts.push(a);
        return alts;
    };
    return rx.altOf(walk("", words));
}

/** A `:<attribute>:<value>` pair whose attribute is not an environment's. */
const otherAttrPair = (): Rx => rx.seq(lit(":"), allBut(ATTR_NAME_CHARS, ENV_ATTRS), lit(":"), rx.plus(cls(NAME_CHARS + "@/")));

/**
 * The subject-attribute form exactly, one automaton: `…login:<org>` and `:<attribute>:<value>` pairs, each
 * environment attribute at most once (Pulumi appends each key of `subjectAttributes` once; both may be there, in
 * either order) and with a value Pulumi gives it: `<project>/<environment>` in a project, the environment's name
 * alone in the legacy `default` project (Pulumi docs: there `currentEnvironment.name` "will resolve to only the
 * environment name"). Values hold no `:`, so the pairs read one way.
 */
const attrExact = (legacy: boolean, env: "any" | "none"): Rx => {
    const others = rx.star(otherAttrPair());
    const value = legacy ? name : rx.seq(name, lit("/"), name);
    const current = rx.seq(lit(":currentEnvironment.name:"), value, others);
    const root = rx.seq(lit(":rootEnvironment.name:"), value, others);
    const envPairs = rx.altOf([rx.eps, rx.seq(current, rx.alt(rx.eps, root)), rx.seq(root, rx.alt(rx.eps, current))]);
    return rx.seq(lit(ATTR_PREFIX), org, others, env === "none" ? rx.eps : envPairs);
};
const attrSubjects = (legacy = false): Lang => dfa(`sub:attr${legacy ? ":legacy" : ""}`, () => attrExact(legacy, "any"));
const CMK: Rx = rx.seq(lit(CMK_PREFIX), org);
/** `pulumi:` followed by anything outside the known namespaces. */
const OTHER_SUB: Rx = rx.seq(lit("pulumi:"), anyRun);
const KNOWN_SUB: Rx = rx.altOf(KNOWN_NAMESPACES.map((n) => rx.seq(lit(n), anyRun)));

const cache = new Map<string, LazyDfa>();
/** Languages naming a document's organizations: one per distinct set, so bounded (least recently used go first). */
const perOrgs = new BoundedCache<string, LazyDfa>(1024);
function dfa(key: string, build: () => Rx, store: { get(k: string): LazyDfa | undefined; set(k: string, v: LazyDfa): unknown } = cache): Lang {
    let d = store.get(key);
    if (!d) {
        d = shareDfa(new LazyDfa(build(), BASE_WIDTH + 1, NAMED_EXTRA));
        store.set(key, d);
    }
    return leaf(d);
}

/** The issuer families the analysis knows: `aws-login`/Deployments/CMK tokens, and `fn::open::oidc` (v2) tokens. */
export type IssuerKind = "v1" | "v2";

export function issuerKind(issuer: string): IssuerKind {
    return /\/oidc\/v2$/i.test(issuer) ? "v2" : "v1";
}

/**
 * The kinds of token Pulumi issues (DOMAIN.md §5, "Audience and subject come in pairs"). `other` stands for any
 * other or future kind of the same issuer; `v2` for `fn::open::oidc` tokens of the `/oidc/v2` issuer.
 */
export type TokenKind = "esc" | "esc-legacy" | "esc-inline" | "deploy" | "cmk" | "other" | "v2";

/** The classes of unintended tokens a statement can admit, worst first (the order of this list). */
export const BLAST_CLASSES = [
    "other-organization",
    "other-kind",
    "every-project",
    "shared-inline-environment",
    "environment-not-pinned",
    "every-environment-of-project",
    "every-operation-of-stack",
] as const;
export type BlastClass = (typeof BLAST_CLASSES)[number];

/** One level of a kind's naming hierarchy: a member's key is its prefix in `key`; infinitely many keys = `cls`. */
export interface Level {
    cls: BlastClass;
    key: Lang;
}

/**
 * One form of one kind: the audience prefixes it is issued with (the audience is prefix + organization), the
 * subject prefix the organization follows, the subject language and the naming levels, coarse to fine.
 */
export interface Variant {
    kind: TokenKind;
    id: string;
    audPrefixes: readonly string[];
    subPrefix: string;
    sub: Lang;
    levels: readonly Level[];
    /** Subjects of this variant that pin no environment (subject-attribute form), when that can happen. */
    unpinned?: Lang;
}

/**
 * The naming levels of a subject-attribute subject. Its environment is `currentEnvironment.name` (where the
 * `aws-login` is defined) when it names one, else `rootEnvironment.name`: a key is the subject up to the current
 * environment's project (or environment), or up to the root's where no current one stands before it. A subject that
 * names the root first and the current one after has both keys, so its root counts too (more in view, never less).
 */
const attrLevels = (legacy = false): Level[] => {
    const others = rx.star(otherAttrPair());
    const value = legacy ? name : rx.seq(name, lit("/"), name);
    // Up to the current environment (a root one may stand before it), or up to the root one with no environment
    // attribute before it; each key one automaton, so the confinement questions share one product.
    const key = (id: string, tail: Rx): Lang =>
        dfa(`key:attr:${id}`, () =>
            rx.seq(
                lit(ATTR_PREFIX),
                org,
                others,
                rx.alt(rx.seq(rx.alt(rx.eps, rx.seq(lit(":rootEnvironment.name:"), value, others)), lit(":currentEnvironment.name:"), tail), rx.seq(lit(":rootEnvironment.name:"), tail)),
            ),
        );
    // The legacy `default` project has no projects: its environments are one level, named alone.
    if (legacy) return [{ cls: "every-environment-of-project", key: key("legacy-env", name) }];
    return [
        { cls: "every-project", key: key("project", rx.seq(name, lit("/"))) },
        { cls: "every-environment-of-project", key: key("env", rx.seq(name, lit("/"), name)) },
    ];
};
/** Subject-attribute subjects none of whose pairs is an environment attribute: they pin no environment. */
const attrUnpinned = (): Lang => dfa("sub:attr:unpinned", () => attrExact(false, "none"));

let variants: Variant[] | null = null;

/** The token forms of the `/oidc` issuer, each with its paired audience. */
export function tokenVariants(): readonly Variant[] {
    variants ??= [
        {
            kind: "esc",
            id: "esc",
            audPrefixes: ["aws:"],
            subPrefix: ESC_PREFIX,
            sub: dfa("sub:esc", () => ESC),
            levels: [
                { cls: "every-project", key: dfa("key:esc:project", () => rx.seq(lit(ESC_PREFIX), org, lit(":env:"), name, lit("/"))) },
                { cls: "every-environment-of-project", key: dfa("sub:esc", () => ESC) },
            ],
        },
        {
            kind: "esc",
            id: "esc-attr",
            audPrefixes: ["aws:"],
            subPrefix: ATTR_PREFIX,
            sub: attrSubjects(),
            levels: attrLevels(),
            unpinned: attrUnpinned(),
        },
        {
            kind: "esc-legacy",
            id: "esc-legacy",
            audPrefixes: [""],
            subPrefix: ESC_PREFIX,
            sub: dfa("sub:esc-legacy", () => ESC_LEGACY),
            levels: [{ cls: "every-environment-of-project", key: dfa("sub:esc-legacy", () => ESC_LEGACY) }],
        },
        {
            kind: "esc-legacy",
            id: "esc-legacy-attr",
            audPrefixes: [""],
            subPrefix: ATTR_PREFIX,
            sub: attrSubjects(true),
            levels: attrLevels(true),
            unpinned: attrUnpinned(),
        },
        {
            kind: "esc-inline",
            id: "esc-inline",
            audPrefixes: ["", "aws:"],
            subPrefix: ESC_PREFIX,
            sub: dfa("sub:esc-inline", () => ESC_YAML),
            levels: [],
        },
        {
            kind: "deploy",
            id: "deploy",
            audPrefixes: [""],
            subPrefix: DEPLOY_PREFIX,
            sub: dfa("sub:deploy", () => DEPLOY),
            levels: [
                {
                    cls: "every-project",
                    key: dfa("key:deploy:project", () => rx.seq(lit(DEPLOY_PREFIX), org, lit(":project:"), name, lit(":"))),
                },
                {
                    cls: "every-environment-of-project",
                    key: dfa("key:deploy:stack", () =>
                        rx.seq(lit(DEPLOY_PREFIX), org, lit(":project:"), name, lit(":stack:"), name, lit(":")),
                    ),
                },
            ],
        },
        {
            kind: "cmk",
            id: "cmk",
            audPrefixes: ["aws:"],
            subPrefix: CMK_PREFIX,
            sub: dfa("sub:cmk", () => CMK),
            levels: [],
        },
    ];
    return variants;
}

/** Subjects of any other or future kind: `pulumi:` then anything outside the modelled namespaces. */
export function otherKindSubjects(): Lang {
    return and(dfa("sub:other", () => OTHER_SUB), not(dfa("sub:known-ns", () => KNOWN_SUB)));
}

/** Audiences of any other or future kind: `<org>` or `<platform>:<org>`. */
export function otherKindAudiences(): Lang {
    return dfa("aud:other", () => rx.alt(org, rx.seq(name, lit(":"), org)));
}

/** The audiences an issuer's tokens can carry. */
export function audienceUniverse(kind: IssuerKind): Lang {
    return kind === "v1" ? otherKindAudiences() : dfa("aud:v2", () => rx.plus(rx.any));
}

/** The subjects an issuer's tokens can carry. */
export function subjectUniverse(kind: IssuerKind): Lang {
    // The modelled forms, plus any subject outside their namespaces (another or future kind). Narrower than
    // `pulumi:*`: products with it die as soon as a subject leaves every form, which keeps large documents cheap.
    return kind === "v1"
        ? or(dfa("sub:v1-known", () => rx.alt(ESC, ESC_LEGACY, ESC_YAML, DEPLOY, ATTR, CMK)), otherKindSubjects())
        : dfa("sub:v2", () => rx.seq(lit("pulumi:org:"), name, lit(":env:"), name));
}

/** Subjects of one variant that name one of the organizations: `<prefix><org>` then `:` or the end. */
export function subjectsNamingOrgs(prefix: string, orgs: readonly string[]): Lang {
    const key = `org:${prefix}:${JSON.stringify([...orgs].sort())}`;
    return dfa(key, () => rx.altOf(orgs.map((o) => rx.seq(lit(`${prefix}${o}`), rx.alt(rx.eps, rx.seq(lit(":"), anyRun))))), perOrgs);
}

/** The shared inline-environment subjects `pulumi:environments:org:<org>:env:<yaml>`. */
export function sharedSubjects(): Lang {
    return dfa("sub:esc-inline", () => ESC_YAML);
}

/** A valid organization name under the token model (lowercase). */
export function isOrgName(s: string): boolean {
    return /^[a-z0-9_.-]+$/.test(s);
}

/** The organization a subject of a variant names (text after the prefix up to `:`), or null. */
export function orgOfSubject(v: Variant, sub: string): string | null {
    if (!sub.startsWith(v.subPrefix)) return null;
    const rest = sub.slice(v.subPrefix.length);
    const colon = rest.indexOf(":");
    return colon < 0 ? rest : rest.slice(0, colon);
}

/** The organization an audience names: `aws:<org>` or `<org>`. */
export function orgOfAudience(aud: string): string {
    return aud.startsWith("aws:") ? aud.slice(4) : aud;
}

export function isAsciiOnly(s: string): boolean {
    return /^[\x20-\x7e]*$/.test(s);
}


/** Audiences of any kind that name one of the organizations: `<org>` or `<platform>:<org>`. */
export function audiencesNamingOrgs(orgs: readonly string[]): Lang {
    const key = `aud-orgs:${JSON.stringify([...orgs].sort())}`;
    return dfa(key, () => rx.seq(rx.alt(rx.eps, rx.seq(name, lit(":"))), rx.altOf(orgs.map((o) => lit(o)))), perOrgs);
}

/** The organization of an audience of any kind: the text after its last `:`. */
export function orgOfAnyAudience(aud: string): string {
    return aud.slice(aud.lastIndexOf(":") + 1);
}
