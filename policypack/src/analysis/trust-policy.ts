/**
 * Which Pulumi tokens a trust policy admits, and whether each admitting statement pins `aud` and `sub`.
 *
 * The admitted set of one issuer is a union of boxes (one per Allow statement: aud-language × sub-language)
 * minus the boxes of the Deny statements. Each Allow box is split into disjoint cells by which Denies a token
 * escapes through its aud and which through its sub; every question (is anything admitted, is an audience
 * outside the allowed ones admitted, are the subjects confined) is then an emptiness or finiteness question on
 * products of automata, decided exactly. See docs/analysis.md.
 */
import { Alphabet, Budget, ComplexityError, Decider, LazyDfa, and, finite, leaf, not, or, rx, type Lang } from "./automata.js";
import { classifyKey, conditionBox, type Box } from "./conditions.js";
import { DEFAULT_ISSUERS, WEB_IDENTITY_ACTION } from "./constants.js";
import { PolicyDocumentError, actionMatches, parseDocument, type Clause, type Statement } from "./document.js";
import {
    audienceUniverse,
    issuerKind,
    keyedForms,
    orgOfAudience,
    sharedSubjects,
    subjectUniverse,
    subjectsNamingOrgs,
    type IssuerKind,
} from "./grammar.js";
import { normalizeIssuer, parseProviderArn } from "./principal.js";
import { rule, type RuleId } from "./rules.js";
import type { AdmittedSet, AnalysisOptions, Finding, FindingLocation, PulumiToken, TrustAnalysis } from "./types.js";
import { findUnknowns } from "./unknowns.js";

export { PolicyDocumentError } from "./document.js";

const DEFAULT_MAX_STATES = 250_000;
/** Default time budget per document (ms): ordinary policies take a few ms; past this the verdict is `error`. */
export const DEFAULT_TIME_BUDGET_MS = 2_000;
/** How many literal audiences of one cell are enumerated before they are treated as unbounded. */
const AUDIENCE_ENUMERATION_CAP = 256;
/** How many exact subjects the positive evidence lists before it shows the patterns instead. */
const SUBJECT_LISTING_CAP = 64;

interface Config {
    orgs: string[];
    /** Allowed audiences, or null when neither organizations nor audiences are configured. */
    allowedAudiences: string[] | null;
    allowedSubjects: string[] | null;
    issuers: string[];
}

function resolveConfig(options: AnalysisOptions): Config {
    const orgs = [...new Set((options.organizations ?? []).filter((o) => o.length > 0))];
    const audiences = (options.audiences ?? []).filter((a) => a.length > 0);
    const allowedAudiences =
        audiences.length > 0 ? [...new Set(audiences)] : orgs.length > 0 ? orgs.flatMap((o) => [o, `aws:${o}`]) : null;
    const subjects = options.allowedSubjects?.filter((s) => s.length > 0) ?? [];
    const issuers = [...new Set((options.issuers?.length ? options.issuers : DEFAULT_ISSUERS).map(normalizeIssuer))];
    return { orgs, allowedAudiences, allowedSubjects: subjects.length > 0 ? subjects : null, issuers };
}

// ---------------------------------------------------------------------------------------------------------------

function errorResult(message: string, path: string, statementIndex?: number): TrustAnalysis {
    const meta = rule("oidc-trust-document-valid");
    const location: FindingLocation = statementIndex === undefined ? {} : { statementIndex };
    return {
        verdict: "error",
        findings: [
            {
                ruleId: meta.id,
                severity: meta.severity,
                message: path ? `${path}: ${message}` : message,
                path,
                location,
                remediation: meta.remediation,
                counterexample: null,
            },
        ],
        notes: [],
        admitted: [],
        usableFromPulumi: false,
    };
}

function unknownResult(paths: string[]): TrustAnalysis {
    const meta = rule("oidc-trust-unknown-at-preview");
    const where = paths.map((p) => p || "(the whole document)").join(", ");
    return {
        verdict: "unknown",
        findings: [
            {
                ruleId: meta.id,
                severity: meta.severity,
                message: `the trust policy cannot be verified during preview; enforced at update (unknown at ${where})`,
                path: paths[0] ?? "",
                location: {},
                remediation: meta.remediation,
                counterexample: null,
            },
        ],
        notes: [],
        admitted: [],
        usableFromPulumi: false,
        unknownPaths: paths,
    };
}

/**
 * Analyzes a trust policy (a JSON string or an already decoded object). Never throws: malformed input gives
 * verdict `error`, values unknown at preview give verdict `unknown`.
 */
export function analyzeTrustPolicy(doc: unknown, options: AnalysisOptions = {}): TrustAnalysis {
    let value = doc;
    if (typeof doc === "string") {
        const unknown = findUnknowns(doc);
        if (unknown.length > 0) return unknownResult(unknown);
        try {
            value = JSON.parse(doc) as unknown;
        } catch (e) {
            return errorResult(`not valid JSON: ${(e as Error).message}`, "");
        }
    }
    const unknown = findUnknowns(value);
    if (unknown.length > 0) return unknownResult(unknown);
    let statements: Statement[];
    try {
        statements = parseDocument(value);
    } catch (e) {
        if (e instanceof PolicyDocumentError) return errorResult(e.message, e.path, e.statementIndex);
        throw e;
    }
    try {
        return new Analysis(statements, resolveConfig(options), options.maxStates ?? DEFAULT_MAX_STATES, options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS).run();
    } catch (e) {
        if (e instanceof ComplexityError) {
            return errorResult(`${e.message}; split the policy or simplify its patterns`, "");
        }
        throw e;
    }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * The tokens of one issuer. An account has one IAM OIDC provider per issuer URL and a role can only use its own
 * account's, so every provider ARN of the issuer that a trust policy names is read as that one provider.
 */
interface Unit {
    issuer: string;
    kind: IssuerKind;
}

interface Cell {
    aud: Lang;
    sub: Lang;
}

function namesIssuer(federated: readonly string[], issuer: string): boolean {
    return federated.some((f) => parseProviderArn(f)?.issuer === issuer);
}

/**
 * Does the statement's principal cover the issuer's tokens? Allow over-approximates (`"*"`, `{"AWS": "*"}`,
 * `{"Federated": "*"}` count); Deny under-approximates: it counts only as `Principal: "*"` or naming the
 * issuer's provider, and never through NotPrincipal.
 */
function principalCovers(st: Statement, unit: Unit): boolean {
    const p = st.principal;
    if (st.effect === "Deny") {
        return p.kind === "Principal" && (p.star || namesIssuer(p.federated, unit.issuer));
    }
    const named = p.star || p.awsStar || p.federated.includes("*") || namesIssuer(p.federated, unit.issuer);
    return p.kind === "Principal" ? named : !named;
}

function actionCovers(st: Statement): boolean {
    const matches = st.actions.some((a) => actionMatches(a, WEB_IDENTITY_ACTION));
    return st.notAction ? !matches : matches;
}

function replaceWildcards(pattern: string, filler: string): string {
    return pattern.replace(/\$\{[^}]*\}/g, filler).replace(/\*/g, filler).replace(/\?/g, "x");
}

class Analysis {
    private readonly alphabet = new Alphabet();
    private readonly decider: Decider;
    private readonly findings = new Map<string, Finding>();
    private readonly notes: string[] = [];
    private readonly admitted = new Map<string, { auds: Set<string>; unbounded: boolean; subs: Set<string>; stmts: Set<number> }>();
    private usable = false;
    private readonly allowedAudLang: Lang | null;
    private readonly allowedSubLang: Lang | null;
    /** Literal values the document and config mention, for readable counterexamples. */
    private readonly audPatterns: string[] = [];
    private readonly subPatterns: string[] = [];

    constructor(
        private readonly statements: Statement[],
        private readonly config: Config,
        maxStates: number,
        timeBudgetMs: number,
    ) {
        this.decider = new Decider(this.alphabet, new Budget(maxStates, timeBudgetMs));
        this.allowedAudLang = config.allowedAudiences ? finite(config.allowedAudiences) : null;
        this.allowedSubLang = config.allowedSubjects
            ? leaf(
                  new LazyDfa(
                      rx.alt(
                          ...config.allowedSubjects.map((g) =>
                              rx.seq(
                                  ...Array.from(g, (c) =>
                                      c === "*" ? rx.star(rx.any) : c === "?" ? rx.any : rx.lit(c, this.alphabet),
                                  ),
                              ),
                          ),
                      ),
                      this.alphabet.width,
                  ),
              )
            : null;
    }

    run(): TrustAnalysis {
        let inScope = false;
        for (const issuer of this.config.issuers) {
            const kind = issuerKind(issuer);
            for (const st of this.statements) {
                for (const c of st.clauses) {
                    const k = classifyKey(c.key, issuer);
                    if (k === "aud") this.audPatterns.push(...c.values);
                    if (k === "sub") this.subPatterns.push(...c.values);
                }
            }
            const unit: Unit = { issuer, kind };
            const allows = this.statements.filter((s) => s.effect === "Allow" && principalCovers(s, unit) && actionCovers(s));
            if (allows.length === 0) continue;
            inScope = true;
            const denies = this.statements
                .filter((s) => s.effect === "Deny" && principalCovers(s, unit) && actionCovers(s))
                .map((s) => conditionBox(s, issuer, "under", this.alphabet))
                .filter((b) => b.possible);
            for (const st of allows) this.checkStatement(st, unit, denies);
        }
        if (!inScope) {
            this.notes.push("No Allow statement lets a Pulumi OIDC issuer assume this role: out of scope.");
        } else if (!this.usable) {
            this.notes.push(
                "No token Pulumi can issue satisfies this trust policy: the role cannot be assumed from Pulumi (pinned to nothing).",
            );
        }
        const findings = [...this.findings.values()];
        return {
            verdict: findings.length > 0 ? "fail" : "pass",
            findings,
            notes: this.notes,
            admitted: [...this.admitted.entries()].map(([issuer, a]): AdmittedSet => ({
                issuer,
                audiences: a.unbounded ? null : [...a.auds].sort(),
                subjects: [...a.subs],
                statements: [...a.stmts].sort((x, y) => x - y),
            })),
            usableFromPulumi: this.usable,
        };
    }

    /** Splits a box into disjoint cells by how its tokens escape each Deny; empty cells are dropped. */
    private cells(aud: Lang, sub: Lang, denies: Box[], j = 0): Cell[] {
        if (this.decider.isEmpty(aud) || this.decider.isEmpty(sub)) return [];
        const d = denies[j];
        if (!d) return [{ aud, sub }];
        return [
            ...this.cells(and(aud, not(d.aud)), sub, denies, j + 1),
            ...this.cells(and(aud, d.aud), and(sub, not(d.sub)), denies, j + 1),
        ];
    }

    private checkStatement(st: Statement, unit: Unit, denies: Box[]): void {
        const box = conditionBox(st, unit.issuer, "over", this.alphabet);
        if (!box.possible) return;
        const cells = this.cells(
            and(box.aud, audienceUniverse(unit.kind)),
            and(box.sub, subjectUniverse(unit.kind)),
            denies,
        );
        if (cells.length === 0) return;
        this.usable = true;
        this.recordAdmitted(st, unit, box, cells);
        for (const cell of cells) {
            if (unit.kind === "v1") this.checkAudience(st, unit, box, cell);
            this.checkSubject(st, unit, box, cell);
        }
    }

    private recordAdmitted(st: Statement, unit: Unit, box: Box, cells: Cell[]): void {
        let entry = this.admitted.get(unit.issuer);
        if (!entry) {
            entry = { auds: new Set(), unbounded: false, subs: new Set(), stmts: new Set() };
            this.admitted.set(unit.issuer, entry);
        }
        entry.stmts.add(st.index);
        for (const cell of cells) {
            const auds = this.decider.enumerate(cell.aud, AUDIENCE_ENUMERATION_CAP);
            if (auds === null) entry.unbounded = true;
            else auds.forEach((a) => entry.auds.add(a));
        }
        // Subjects: the exact set when it is small and finite (e.g. pinned by a Deny), else the patterns as written.
        const exact: string[] = [];
        for (const cell of cells) {
            const subs = this.decider.enumerate(cell.sub, SUBJECT_LISTING_CAP);
            if (subs === null || exact.length + subs.length > SUBJECT_LISTING_CAP) {
                exact.length = 0;
                break;
            }
            exact.push(...subs);
        }
        if (exact.length > 0) {
            exact.forEach((s) => entry.subs.add(s));
            return;
        }
        if (box.subClauses.length === 0) entry.subs.add("*");
        for (const c of box.subClauses) {
            if (c.operator.family !== "string") continue;
            if (c.operator.negated) entry.subs.add(`* except ${c.values.join(", ")}`);
            else c.values.forEach((v) => entry.subs.add(v));
        }
    }

    // ---- audiences

    private audCandidates(): string[] {
        const orgs = new Set<string>(this.config.orgs);
        for (const p of this.audPatterns) {
            this.decider.budget.tick();
            const o = orgOfAudience(p.replace(/[*?].*$/, "").replace(/\$\{.*$/, ""));
            if (/^[A-Za-z0-9_.-]+$/.test(o)) orgs.add(o);
        }
        const out: string[] = [];
        for (const p of this.audPatterns) {
            if (/[*?]|\$\{/.test(p)) out.push(replaceWildcards(p, "-evil"), replaceWildcards(p, "evil"));
        }
        for (const o of orgs) out.push(`aws:${o}-evil`, `${o}-evil`, `aws:${o}`, o);
        out.push("aws:evil-org", "evil-org");
        return out;
    }

    private checkAudience(st: Statement, unit: Unit, box: Box, cell: Cell): void {
        const ruleId: RuleId = "oidc-trust-aud-pinned";
        if (this.findings.has(`${ruleId}/${st.index}`)) return;
        const key = `${unit.issuer}:aud`;
        if (this.allowedAudLang) {
            const aud = this.decider.pick(and(cell.aud, not(this.allowedAudLang)), this.audCandidates());
            if (aud === null) return;
            const token = this.token(unit, aud, this.pickSubject(cell.sub, orgOfAudience(aud)));
            const allowed = this.config.allowedAudiences!.join(", ");
            const why =
                box.audClauses.length === 0
                    ? `it has no condition on ${key}`
                    : `its condition on ${key} admits "${aud}", which is not an allowed audience (${allowed})`;
            this.report(ruleId, st, box.audClauses, token, `${this.where(st)} lets in a token with aud "${aud}": ${why}`);
            return;
        }
        if (!this.decider.isInfinite(cell.aud)) return;
        const aud = this.decider.pick(cell.aud, this.audCandidates()) ?? "";
        const token = this.token(unit, aud, this.pickSubject(cell.sub, orgOfAudience(aud)));
        const why =
            box.audClauses.length === 0
                ? `it has no condition on ${key}`
                : `its condition on ${key} admits unboundedly many audiences, e.g. "${aud}"`;
        this.report(
            ruleId,
            st,
            box.audClauses,
            token,
            `${this.where(st)} does not pin the audience to literal values: ${why}`,
        );
    }

    // ---- subjects

    private subCandidates(org: string | null): string[] {
        const out: string[] = [];
        for (const p of this.subPatterns) {
            this.decider.budget.tick();
            if (/[*?]|\$\{/.test(p)) {
                // A wildcard that starts a segment reads best as another name; one inside a name, as a longer name.
                const atSegmentStart = /[:/][*?]/.test(p);
                const deploy = ":stack:prod:operation:update:scope:write";
                const fillers = atSegmentStart
                    ? ["other/prod", "evil", "other-evil", `other${deploy}`, "x/evil", "x:evil"]
                    : ["roll/prod", "-evil/prod", "evil", `-evil${deploy}`, "x/evil", "x:evil", "other/prod"];
                for (const f of fillers) {
                    out.push(replaceWildcards(p, f));
                }
            }
        }
        const orgs = [org ?? "evil-org", ...this.config.orgs, "evil-org"];
        for (const o of orgs) {
            out.push(
                `pulumi:environments:org:${o}:env:other/prod`,
                `pulumi:environments:org:${o}:env:other`,
                `pulumi:deploy:org:${o}:project:other:stack:prod:operation:update:scope:write`,
                `pulumi:environments:pulumi.organization.login:${o}:currentEnvironment.name:other/prod`,
                `pulumi:environments:org:${o}:env:<yaml>`,
            );
        }
        return out;
    }

    private pickSubject(sub: Lang, org: string | null): string {
        return this.decider.pick(sub, this.subCandidates(org)) ?? "";
    }

    private checkSubject(st: Statement, unit: Unit, box: Box, cell: Cell): void {
        const ruleId: RuleId = "oidc-trust-sub-pinned";
        if (this.findings.has(`${ruleId}/${st.index}`)) return;
        const key = `${unit.issuer}:sub`;
        const noCondition = box.subClauses.length === 0 ? `it has no condition on ${key}` : null;
        const fail = (aud: string, sub: string, why: string): void => {
            this.report(ruleId, st, box.subClauses, this.token(unit, aud, sub), `${this.where(st)} lets in a token with sub "${sub}": ${noCondition ?? why}`);
        };
        const audFor = (org: string | null): string => {
            const candidates = org === null ? this.audCandidates() : [`aws:${org}`, org, ...this.audCandidates()];
            return this.decider.pick(cell.aud, candidates) ?? "";
        };

        if (this.allowedSubLang) {
            const sub = this.decider.pick(and(cell.sub, not(this.allowedSubLang)), this.subCandidates(null));
            if (sub !== null) fail(audFor(null), sub, `it is not among the allowed subjects (${this.config.allowedSubjects!.join(", ")})`);
            return;
        }
        if (unit.kind === "v2") {
            if (this.decider.isInfinite(cell.sub)) {
                const sub = this.pickSubject(cell.sub, null);
                fail(audFor(null), sub, `${key} must be pinned to exact subjects (fn::open::oidc audiences are chosen by the environment author, so only sub identifies the caller)`);
            }
            return;
        }

        // Organizations the subjects must name, by the admitted audiences of this cell.
        let orgGroups: Array<string | null>;
        const allowedAuds = this.allowedAudLang ? and(cell.aud, this.allowedAudLang) : cell.aud;
        const auds = this.decider.enumerate(allowedAuds, AUDIENCE_ENUMERATION_CAP);
        if (auds === null || auds.length === 0) {
            orgGroups = [null];
        } else {
            orgGroups = [...new Set(auds.map(orgOfAudience))];
        }
        for (const org of orgGroups) {
            const required = org !== null ? [org] : this.config.orgs.length > 0 ? this.config.orgs : null;
            const aud = audFor(org);
            const scoped = required ? and(cell.sub, subjectsNamingOrgs(required)) : cell.sub;
            const forms = keyedForms();
            const confinement = this.decider.confinement(scoped, forms);
            const spanning = forms.findIndex((_, i) => confinement.keyed[i]);
            if (spanning >= 0) {
                const f = forms[spanning]!;
                const sub = this.decider.pick(and(scoped, f.form), this.subCandidates(org)) ?? "";
                return fail(aud, sub, `its wildcard is not confined to the last segment under ${f.description}: it spans names, so other environments or stacks match too`);
            }
            if (confinement.rest) {
                const rest = and(scoped, not(or(...forms.map((f) => f.form))));
                const sub = this.decider.pick(rest, this.subCandidates(org)) ?? "";
                return fail(aud, sub, "it admits unboundedly many subjects that are not under a literal organization and project or stack");
            }
            if (required) {
                const outside = this.decider.pick(and(cell.sub, not(subjectsNamingOrgs(required))), this.subCandidates(org));
                if (outside !== null) {
                    return fail(aud, outside, `it admits subjects outside organization ${required.join(", ")}`);
                }
            }
            const shared = this.decider.pick(and(cell.sub, sharedSubjects()), this.subCandidates(org));
            if (shared !== null) {
                return fail(aud, shared, "`:env:<yaml>` is the subject every stack-config inline environment of the organization shares (pulumi/pulumi#14509), so it trusts all of them");
            }
        }
    }

    // ---- reporting

    private token(unit: Unit, aud: string, sub: string): PulumiToken {
        return { issuer: unit.issuer, aud, sub };
    }

    private where(st: Statement): string {
        return `Statement[${st.index}]`;
    }

    private report(ruleId: RuleId, st: Statement, clauses: Clause[], token: PulumiToken, message: string): void {
        const meta = rule(ruleId);
        const blame = clauses.find((c) => c.operator.family === "string" && !c.operator.negated) ?? clauses[0];
        const location: FindingLocation = { statementIndex: st.index };
        if (blame) {
            location.operator = blame.operator.written;
            location.conditionKey = blame.key;
        }
        this.findings.set(`${ruleId}/${st.index}`, {
            ruleId,
            severity: meta.severity,
            message: `${message}. Counterexample token: iss ${token.issuer}, aud "${token.aud}", sub "${token.sub}".`,
            path: blame ? blame.path : st.path,
            location,
            remediation: meta.remediation,
            counterexample: token,
        });
    }
}
