/**
 * The tokens Pulumi can issue, as regular languages (DOMAIN.md §5), and the default subject scope.
 * Grammar automata use printable ASCII only, so they are built once per process and shared by every analysis.
 */
import { Alphabet, BASE_WIDTH, LazyDfa, OTHER, asciiClass, leaf, rx, shareDfa, type Lang, type Rx } from "./automata.js";

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
const ATTR_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";
/** Grammar automata read every named non-ASCII character as this symbol, which no class contains. */
const NAMED_EXTRA = BASE_WIDTH;

const ascii = new Alphabet(); // frozen: grammar literals are ASCII
ascii.freeze();
const lit = (s: string): Rx => rx.lit(s, ascii);
const anyRun: Rx = rx.star(rx.any);
const cls = (chars: string): Rx => rx.set([...asciiClass(chars), OTHER]);
const name: Rx = rx.plus(cls(NAME_CHARS));

const ESC: Rx = rx.seq(lit("pulumi:environments:org:"), name, lit(":env:"), name, lit("/"), name);
const ESC_LEGACY: Rx = rx.seq(lit("pulumi:environments:org:"), name, lit(":env:"), name);
const ESC_YAML: Rx = rx.seq(lit("pulumi:environments:org:"), name, lit(`:env:${SHARED_YAML_ENV}`));
const DEPLOY: Rx = rx.seq(
    lit("pulumi:deploy:org:"),
    name,
    lit(":project:"),
    name,
    lit(":stack:"),
    name,
    lit(":operation:"),
    rx.alt(...DEPLOY_OPERATIONS.map(lit)),
    lit(":scope:write"),
);
const ATTR: Rx = rx.seq(
    lit("pulumi:environments:pulumi.organization.login:"),
    name,
    rx.star(rx.seq(lit(":"), rx.plus(cls(ATTR_NAME_CHARS)), lit(":"), rx.plus(cls(NAME_CHARS + "@/")))),
);
const ATTR_KEYED: Rx = rx.seq(
    lit("pulumi:environments:pulumi.organization.login:"),
    name,
    lit(":currentEnvironment.name:"),
    name,
    lit("/"),
    anyRun,
);

const cache = new Map<string, LazyDfa>();
function dfa(key: string, build: () => Rx): Lang {
    let d = cache.get(key);
    if (!d) {
        d = shareDfa(new LazyDfa(build(), BASE_WIDTH + 1, NAMED_EXTRA));
        cache.set(key, d);
    }
    return leaf(d);
}

/** The issuer families the analysis knows: `aws-login`/Deployments tokens, and `fn::open::oidc` (v2) tokens. */
export type IssuerKind = "v1" | "v2";

export function issuerKind(issuer: string): IssuerKind {
    return /\/oidc\/v2$/i.test(issuer) ? "v2" : "v1";
}

/** The audiences an issuer's tokens can carry. */
export function audienceUniverse(kind: IssuerKind): Lang {
    return kind === "v1"
        ? dfa("aud:v1", () => rx.alt(name, rx.seq(lit("aws:"), name)))
        : dfa("aud:v2", () => rx.plus(rx.any));
}

/** The subjects an issuer's tokens can carry. */
export function subjectUniverse(kind: IssuerKind): Lang {
    return kind === "v1"
        ? dfa("sub:v1", () => rx.alt(ESC, ESC_LEGACY, ESC_YAML, DEPLOY, ATTR))
        : dfa("sub:v2", () => rx.seq(lit("pulumi:org:"), name, lit(":env:"), name));
}

/**
 * The forms of the default scope whose wildcards may be confined under a literal key, each with its key shape:
 * a member's key is its prefix in the key shape.
 */
export interface KeyedForm {
    id: "esc" | "deploy" | "attr";
    description: string;
    form: Lang;
    key: Lang;
}

export function keyedForms(): KeyedForm[] {
    return [
        {
            id: "esc",
            description: "an organization and project (`pulumi:environments:org:<org>:env:<project>/…`)",
            form: dfa("form:esc", () => ESC),
            key: dfa("key:esc", () => rx.seq(lit("pulumi:environments:org:"), name, lit(":env:"), name, lit("/"))),
        },
        {
            id: "deploy",
            description:
                "an organization, project and stack (`pulumi:deploy:org:<org>:project:<project>:stack:<stack>:…`)",
            form: dfa("form:deploy", () => DEPLOY),
            key: dfa("key:deploy", () =>
                rx.seq(lit("pulumi:deploy:org:"), name, lit(":project:"), name, lit(":stack:"), name, lit(":")),
            ),
        },
        {
            id: "attr",
            description:
                "an organization and project in the subject-attribute form (`…login:<org>:currentEnvironment.name:<project>/…`)",
            form: dfa("form:attr", () => ATTR_KEYED),
            key: dfa("key:attr", () =>
                rx.seq(
                    lit("pulumi:environments:pulumi.organization.login:"),
                    name,
                    lit(":currentEnvironment.name:"),
                    name,
                    lit("/"),
                ),
            ),
        },
    ];
}

/** The shared inline-environment subjects `pulumi:environments:org:<org>:env:<yaml>`. */
export function sharedSubjects(): Lang {
    return dfa("shared-yaml", () => ESC_YAML);
}

/** Subjects that name one of the organizations (v1 forms). */
export function subjectsNamingOrgs(orgs: readonly string[]): Lang {
    const key = `org:${JSON.stringify([...orgs].sort())}`;
    return dfa(key, () =>
        rx.alt(
            ...orgs.flatMap((o) => [
                rx.seq(lit(`pulumi:environments:org:${o}:`), anyRun),
                rx.seq(lit(`pulumi:deploy:org:${o}:`), anyRun),
                rx.seq(lit(`pulumi:environments:pulumi.organization.login:${o}`), rx.alt(rx.eps, rx.seq(lit(":"), anyRun))),
            ]),
        ),
    );
}

/** The organization an audience names: `aws:<org>` or `<org>`. */
export function orgOfAudience(aud: string): string {
    return aud.startsWith("aws:") ? aud.slice(4) : aud;
}

export function isAsciiOnly(s: string): boolean {
    return /^[\x20-\x7e]*$/.test(s);
}

