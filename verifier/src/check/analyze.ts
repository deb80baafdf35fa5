/**
 * The work of `oidc-guard check`: read each input once, find its roles and providers, analyse each distinct trust
 * policy once, and turn everything into {@link CheckResult}s. Nothing here prints; the command renders the report.
 */
import {
    analyzeOidcProvider,
    stackAudienceCheck,
    analyzeTrustPolicy,
    BoundedCache,
    admittedOfRead,
    analysisOfRead,
    findUnknowns,
    principalsOfRead,
    templateReader,
    rule,
    UNKNOWN_SENTINELS,
    type AdmittedSet,
    type AnalysisOptions,
    type Finding,
    type StackAudienceFinding,
    type StackProviderInput,
    type StackRoleInput,
    type TemplateRead,
    type TrustAnalysis,
    type Verdict,
} from "oidc-guard-policypack/analysis";
import type { CheckResult, CheckTarget } from "../results.js";
import type { InputFile, SkippedFile } from "./files.js";
import { isCloudFormationTemplate, jsonResourceLines, looksLikeYamlTemplate, parseYamlTemplate, type YamlTemplate } from "./cloudformation.js";
import { extractInput, type ExtractedInput, type InputKind, type ProviderItem, type RoleItem } from "./inputs.js";
import { looksLikeTerraformSource, TF_PLAN_HINT } from "./terraform.js";
import { describeDuplicateKey, describeJsonProblem, findDuplicateKeys, parseJson, type DuplicateKey } from "./json.js";
import { DEFAULT_MAX_INPUT_BYTES, InputReadError, decodeUtf8, readFileBytes } from "../read.js";
import { errnoMessage } from "./options.js";
import { revealValue, type Unreadable } from "./values.js";
import { Templates, TemplatedResult } from "./prerender.js";
import { canonical } from "./canonical-json.js";
import { redactDeep } from "../redact.js";

/** A file that could not be read or parsed as JSON: the command exits 2 for it. */
export interface FileProblem {
    file: string;
    message: string;
}

export interface CheckRun {
    results: CheckResult[];
    /** Files that could not be read or parsed (each also has a result with verdict `error`). */
    fileProblems: FileProblem[];
    /** Files and the kind each was detected as (check-result files are listed but produce no results). */
    files: { file: string; kind: InputKind | "unreadable" | "invalid-json" | "invalid-yaml" | "terraform-source" | "skipped" }[];
    /** How many trust policies were analysed, and how many of those came from the cache. */
    stats: { roles: number; providers: number; analyses: number };
    /** The text of every file read, by its shown name: reports use it for line numbers. */
    sources: Map<string, string>;
    /** Files among `sources` whose text `JSON.parse` accepted as it is: the reports need not parse them again. */
    validJson: Set<string>;
    /** Files found by a directory walk and left out (results of earlier runs), with the reason. */
    skipped: SkippedFile[];
}

const VERDICT_RANK: Record<Verdict, number> = { pass: 0, unknown: 1, fail: 2, error: 3 };

/** The more severe of two verdicts: error > fail > unknown > pass (a definite violation outranks an undecided part). */
export function worse(a: Verdict, b: Verdict): Verdict {
    return VERDICT_RANK[b] > VERDICT_RANK[a] ? b : a;
}

/** Joins a property name and a path from the analysis: `assumeRolePolicy` + `Statement[0]` → `assumeRolePolicy.Statement[0]`. */
export function prefixPath(property: string, path: string): string {
    if (property === "") return path;
    if (path === "") return property;
    return path.startsWith("[") ? `${property}${path}` : `${property}.${path}`;
}

function documentFinding(message: string, remediation: string, path = ""): Finding {
    const meta = rule("oidc-trust-document-valid");
    return { ruleId: meta.id, severity: meta.severity, message, path, location: {}, remediation, counterexample: null };
}

/** The one `error` result of a file that cannot be checked at all (unreadable, not an input, not parsed). */
function fileError(file: string, message: string, remediation: string): CheckResult {
    return redactDeep<CheckResult>({ target: { file }, verdict: "error", findings: [documentFinding(message, remediation)] });
}

function unknownFinding(
    message: string,
    remediation: string,
    path: string,
    id: "oidc-trust-unknown-at-preview" | "oidc-trust-unreadable" = "oidc-trust-unknown-at-preview",
): Finding {
    const meta = rule(id);
    return { ruleId: meta.id, severity: meta.severity, message, path, location: {}, remediation, counterexample: null };
}

/** The cache key of a trust policy: its text, or canonical JSON for an object. */
/**
 * The key a document is cached under: the text itself for a document given as text, canonical JSON for an
 * object. The two kinds live in separate maps ({@link KeyedCache}), so a text is never copied into a new key.
 */
function cacheKey(doc: unknown): { text: string } | { json: string } {
    return typeof doc === "string" ? { text: doc } : { json: canonical(doc) };
}

/** What {@link KeyedCache} keeps its entries in: a plain Map, or the analysis core's bounded cache. */
interface Store<V> {
    get(key: string): V | undefined;
    set(key: string, v: V): unknown;
}

/** A map keyed by {@link cacheKey}: texts and canonical JSON in stores of their own, so they never collide. */
class KeyedCache<V> {
    private readonly byText: Store<V>;
    private readonly byJson: Store<V>;
    constructor(store: () => Store<V>) {
        this.byText = store();
        this.byJson = store();
    }
    get(k: { text: string } | { json: string }): V | undefined {
        return "text" in k ? this.byText.get(k.text) : this.byJson.get(k.json);
    }
    set(k: { text: string } | { json: string }, v: V): void {
        if ("text" in k) this.byText.set(k.text, v);
        else this.byJson.set(k.json, v);
    }
}

/** A trust policy's analysis (or what it threw), and the document it read: a text's parsed value, else the document. */
interface Analyzed {
    analysis: TrustAnalysis | { thrown: unknown };
    value: unknown;
    /** Read back from the text's template (cheap to read again): which, and with what names. */
    fromTemplate?: TemplateRead;
    /** The stack audience check of the document against the providers of one input (the last it was checked in). */
    audience?: { of: ExtractedInput; findings: readonly StackAudienceFinding[] };
}

/** What the stack audience check needs of an analysis, and how its audience lists sort (`admittedOfRead`). */
interface AdmittedView {
    verdict: Verdict;
    admitted: AdmittedSet[];
    order: string;
}

/**
 * A text read from its template: its analysis read back when it is first asked for; what it admits can be read
 * alone before that (all a role written from its template needs). A class, not an object literal with a getter: a
 * literal's getter is a new function each time, which gives each object a hidden class of its own (measured: old
 * space grew twice as fast).
 */
class TemplatedAnalyzed implements Analyzed {
    private full: { analysis: TrustAnalysis; order: string } | undefined;
    private view: AdmittedView | undefined;
    private parsed: { value: unknown } | undefined;
    audience?: Analyzed["audience"];

    constructor(
        readonly fromTemplate: TemplateRead,
        private readonly text: string,
    ) {}

    /** The text's value, parsed when first asked for: a role's audience check reads {@link principals} instead. */
    get value(): unknown {
        return (this.parsed ??= { value: JSON.parse(this.text) as unknown }).value;
    }

    /**
     * The trust policy as far as the stack audience check reads it (each statement's Principal), made from the
     * template without parsing the text; the parsed value when the template has none, or the analysis does not
     * decide (the check then looks for unknowns in the whole value).
     */
    principals(): unknown {
        const verdict = this.admitted().verdict;
        return verdict === "pass" || verdict === "fail" ? (principalsOfRead(this.fromTemplate) ?? this.value) : this.value;
    }

    get analysis(): TrustAnalysis {
        return (this.full ??= analysisOfRead(this.fromTemplate)).analysis;
    }

    /** Its verdict and what it admits, read back alone before its whole analysis is (if it ever is), with their order. */
    admitted(): AdmittedView {
        if (this.view !== undefined) return this.view;
        const full = this.full;
        return (this.view = full !== undefined ? { verdict: full.analysis.verdict, admitted: full.analysis.admitted, order: full.order } : admittedOfRead(this.fromTemplate));
    }
}

/** Distinct policy texts (and objects) whose analyses `check` keeps for roles that repeat them. */
const ANALYSIS_CACHE_ENTRIES = 2048;
/** Texts read from a template once, remembered so that the second reading is kept. */
const SEEN_ENTRIES = 8192;
/**
 * After this many texts in a row, each read from its template and neither kept nor seen before, the texts' caches
 * are asked about one text in {@link DISTINCT_SAMPLE} only, until one of those repeats.
 */
export const DISTINCT_RUN = 1024;
export const DISTINCT_SAMPLE = 8;

/**
 * A trust policy given as text, read by the CLI's JSON reader: the error analysis when it nests too deep or repeats
 * a key, else the value when it is JSON (analysed as that value, so the text is parsed once), else undefined (the
 * analysis reports what is wrong with the text).
 */
function readPolicyText(doc: string): { analysis: TrustAnalysis } | { value: unknown } | undefined {
    if (!doc.trimStart().startsWith("{")) return undefined;
    const parsed = parseJson(doc);
    if (!parsed.ok && parsed.problem.message.startsWith("nested deeper")) {
        return {
            analysis: errorAnalysis([
                documentFinding(`The trust policy is ${describeJsonProblem(parsed.problem)}.`, "Flatten the document: IAM policies nest a few levels at most."),
            ]),
        };
    }
    if (!parsed.ok) return undefined;
    if (parsed.duplicates.length > 0) return { analysis: errorAnalysis(duplicateFindings(parsed.duplicates)) };
    // The value stands for the text unless the text marks an unknown (then the text's own path is reported).
    return findUnknowns(doc).length > 0 ? undefined : { value: parsed.value };
}

/** A trust policy analysis that stops at document errors. */
function errorAnalysis(findings: Finding[]): TrustAnalysis {
    return { verdict: "error", findings, notes: [], admitted: [], usableFromPulumi: false };
}

/** One `error` finding per duplicated key (JSON keeps the last value; which one applies is ambiguous). */
function duplicateFindings(duplicates: readonly DuplicateKey[]): Finding[] {
    return duplicates.map((d) =>
        documentFinding(
            `The trust policy is ambiguous: ${describeDuplicateKey(d)}; JSON readers keep only one of the values, and which one IAM applies is not defined.`,
            `Keep one "${d.key}" in that object (merge the two into one if both are meant to apply).`,
        ),
    );
}

/** Internal failures of the analysis are reported as verdict `error` on the target, never as a pass. */
function internalError(what: string, e: unknown): { verdict: Verdict; findings: Finding[]; notes: string[] } {
    const message = e instanceof Error ? e.message : String(e);
    return { verdict: "error", findings: [], notes: [`internal error while analysing ${what}: ${message}`] };
}

/** Explains parts of a value that cannot be read (ciphertext, redacted secret, display-form unknown). */
function unreadableFindings(items: Unreadable[], property: string, what: string): Finding[] {
    return items.map((u) => {
        const path = prefixPath(property, u.path);
        switch (u.reason) {
            case "ciphertext":
                return unknownFinding(
                    `The ${what} is stored as an encrypted secret (ciphertext), so it cannot be checked.`,
                    "Export the stack with `pulumi stack export --show-secrets` (and keep that file private), or check the role in AWS with `aws iam get-role`.",
                    path,
                    "oidc-trust-unreadable",
                );
            case "redacted-secret":
                return unknownFinding(
                    `The ${what} is a secret, which \`pulumi preview --json\` prints as "[secret]", so it cannot be checked.`,
                    "Check the stack export (`pulumi stack export --show-secrets`) after `pulumi up`, or run the policy pack during `pulumi up`.",
                    path,
                    "oidc-trust-unreadable",
                );
            case "display-unknown":
                return unknownFinding(
                    `The ${what} is not known yet (shown as an unknown placeholder): it depends on a value computed during the update.`,
                    rule("oidc-trust-unknown-at-preview").remediation,
                    path,
                );
            default:
                return u.reason satisfies never;
        }
    });
}

/**
 * Checks the given files. `options` are passed to the analysis unchanged. Each distinct trust policy (by its text,
 * or by canonical JSON for objects) is analysed once; results are in file order, then resource order.
 */
export function runCheck(
    files: readonly InputFile[],
    options: AnalysisOptions,
    limits: Pick<CheckLimits, "maxInputBytes" | "keepSources" | "streamTimeoutMs"> = {},
): CheckRun {
    const { run, results } = streamCheck(files, options, limits);
    // One by one: an export of 130,000 roles spread into push() overflows the call stack.
    for (const r of results) run.results.push(r);
    return run;
}

/** How `check` reads its inputs and makes its results. */
export interface CheckLimits {
    maxInputBytes?: number;
    /** How long a pipe (FIFO) or a device named as an input may take to end (read.ts `STREAM_TIMEOUT_MS` unless told). */
    streamTimeoutMs?: number;
    /** Keep each file's text in `sources` (default): reports that locate findings need it. */
    keepSources?: boolean;
    /**
     * The results are written as JSON, in an array this deep, with prerender.ts `templatedItem`: roles of a template's
     * kind seen before are made as what it writes ({@link createChecker}).
     */
    templated?: { depth: number };
}

/**
 * {@link runCheck} one result at a time, for a caller that writes each result and lets it go (JSON of 100,000 roles:
 * held until the end, the results were most of what the garbage collector copied). `run.results` stays empty; the
 * rest of `run` (files, problems, stats, skipped files) is complete once `results` is. With a `stage`, the stage gives
 * each input's role results (some as what stands for them: report bytes another thread, or this one ahead of their
 * turn, rendered).
 */
export function streamCheck<R = never>(
    files: readonly InputFile[],
    options: AnalysisOptions,
    limits: CheckLimits = {},
    stage?: RoleStage<R>,
): { run: CheckRun; results: Generator<CheckResult | R, void, undefined> } {
    const run: CheckRun = {
        results: [],
        fileProblems: [],
        files: [],
        stats: { roles: 0, providers: 0, analyses: 0 },
        sources: new Map(),
        validJson: new Set(),
        skipped: [],
    };
    return { run, results: closing(checkFiles(files, options, limits, run, stage), stage) };
}

/** `results`, then whatever the stage started (a worker thread) is stopped, however the check ends. */
function* closing<T, R>(results: Generator<T, void, undefined>, stage: RoleStage<R> | undefined): Generator<T, void, undefined> {
    try {
        yield* results;
    } finally {
        stage?.close?.();
    }
}

/** What to do about a file that could not be read for a reason of its own (not an error of the system). */
const READ_FIX: Record<Exclude<InputReadError["reason"], "io">, string> = {
    "too-large": "Check that this is the file you meant; raise the limit with --max-input-mib if it is.",
    "invalid-utf8": "Save the file as UTF-8 (JSON is UTF-8; other encodings are not guessed).",
    timeout: "Write the document to a file and check that.",
};

function* checkFiles<R>(
    files: readonly InputFile[],
    options: AnalysisOptions,
    limits: CheckLimits,
    run: CheckRun,
    stage: RoleStage<R> | undefined,
): Generator<CheckResult | R, void, undefined> {
    const checker = createChecker(options, run.stats, limits.templated);

    for (const f of files) {
        let text: string;
        // The member marks of a large file, when the stage counts them on another thread.
        let counted: (() => number | undefined) | undefined;
        try {
            if (f.text !== undefined) text = f.text;
            else {
                const bytes = readFileBytes(f.path, limits.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, stage?.sharedFrom, limits.streamTimeoutMs);
                counted = stage?.marksOf?.(bytes);
                text = decodeUtf8(bytes);
            }
        } catch (e) {
            // Too large (the limit is enforced while reading), not UTF-8, or a pipe or device that did not end in
            // time: the file's own problem, named.
            const own = e instanceof InputReadError && e.reason !== "io" ? e.reason : undefined;
            const message = own !== undefined ? (e as Error).message : `cannot read: ${errnoMessage(e)}`;
            run.fileProblems.push({ file: f.shown, message });
            run.files.push({ file: f.shown, kind: "unreadable" });
            yield fileError(f.shown, `${f.shown}: ${message}.`, own !== undefined ? READ_FIX[own] : "Make the file readable, or leave it out.");
            continue;
        }
        // Kept for reports that locate findings in their files (SARIF and the others); not for JSON or text alone.
        if (limits.keepSources !== false) run.sources.set(f.shown, text);
        const read = readInput(f, text, counted);
        if ("skip" in read) {
            run.sources.delete(f.shown);
            run.files.push({ file: f.shown, kind: "skipped" });
            continue;
        }
        if ("problem" in read) {
            run.fileProblems.push({ file: f.shown, message: read.problem });
            run.files.push({ file: f.shown, kind: read.kind });
            yield fileError(f.shown, `${f.shown} is ${read.problem}.`, read.remediation);
            continue;
        }
        const input = read.input;
        if (read.json && limits.keepSources !== false) run.validJson.add(f.shown);
        run.files.push({ file: f.shown, kind: input.kind });
        // Files that are not inputs: named on the command line, each is an error of its own; found by walking a
        // directory, cdk.out metadata is left out quietly and an earlier run's result file is listed as skipped.
        const notAnInput =
            input.kind === "cdk-metadata"
                ? {
                      message: `${f.shown} is cdk synth metadata (manifest, tree or assets), not a CloudFormation template.`,
                      fix: "Pass the cdk.out folder (its *.template.json files are checked, the metadata is skipped) or a *.template.json file.",
                  }
                : input.kind === "check-result"
                  ? {
                        message: `${f.shown} is an oidc-guard check result, not an input to check.`,
                        fix: "Pass the trust policies, stack exports, previews or AWS listings that were checked; use `oidc-guard report` to render a result file.",
                        skipped: "an oidc-guard check result (holds only tool, results, summary)",
                    }
                  : undefined;
        if (notAnInput !== undefined) {
            if (f.explicit) {
                yield fileError(f.shown, notAnInput.message, notAnInput.fix);
            } else if (notAnInput.skipped !== undefined) {
                run.skipped.push({ file: f.shown, reason: notAnInput.skipped });
            }
            continue;
        }
        if (input.kind === "unrecognized") {
            if (f.onlyIfTemplate) {
                run.files[run.files.length - 1]!.kind = "skipped";
                run.sources.delete(f.shown);
                run.validJson.delete(f.shown);
                continue;
            }
            yield fileError(
                f.shown,
                `${f.shown} is JSON but not an input oidc-guard check understands: ${input.problem ?? ""}.`,
                "Pass one of the supported inputs (see `oidc-guard check --help`), or leave this file out.",
            );
            continue;
        }

        yield* checker.results(input, f.shown, stage);
    }
}

/** Checks extracted inputs with one analysis cache: each distinct trust policy is analysed once over all inputs. */
export interface Checker {
    /** The results for one input's roles and providers, in input order (a note when it holds none). */
    checkInput(input: ExtractedInput, file: string): CheckResult[];
    /**
     * The same results one at a time, each complete when it is given (nothing is added to it later). With a `stage`,
     * the stage gives the roles' results (some of them as something else, such as report bytes rendered by another thread).
     */
    results<R = never>(input: ExtractedInput, file: string, stage?: RoleStage<R>): Generator<CheckResult | R, void, undefined>;
    /**
     * The results of `roles`, some of `input`'s roles in input order, as {@link results} gives them (complete, with
     * the stack audience check against `input`'s providers), without the providers' results. Calls on one input
     * share its state (not with {@link results}): an audience check that failed fails every later role of the input.
     */
    roleResults(input: ExtractedInput, roles: readonly RoleItem[]): Generator<CheckResult, void, undefined>;
    /** Whether the stack audience check of `input` has failed in {@link roleResults} (every later result is an error). */
    audienceFailed(input: ExtractedInput): boolean;
}

/**
 * Gives the results of an input's roles, in order: what `local` checks in this thread, or what stands for them. It
 * may also count the member marks of a large file's JSON on another thread while this one parses it ({@link marksOf}).
 */
export interface RoleStage<R> {
    (input: ExtractedInput, local: LocalRoles): Iterable<CheckResult | R>;
    /** Files of at least this many bytes are read into shared memory and given to {@link marksOf}. */
    readonly sharedFrom?: number;
    /**
     * Starts counting the JSON member marks of a file's bytes (shared memory) elsewhere, before this thread decodes
     * and parses them; gives the count's getter (which gives undefined when it was not counted: it is counted here).
     */
    marksOf?(bytes: Uint8Array): () => number | undefined;
    /** Called once every file is checked (or the check stops): what the stage started is stopped. */
    close?(): void;
}

/** The checker's own way to check roles of the input a {@link RoleStage} is given. */
export interface LocalRoles {
    results(roles: readonly RoleItem[]): Generator<CheckResult, void, undefined>;
    /** The input's stack audience check failed: every later result is an error, as this thread makes them. */
    failed(): boolean;
}

/** An input's providers, prepared for its roles' audience check, and how that check stands. */
interface InputState {
    providerResults: CheckResult[];
    stackProviders: StackProviderInput[];
    audienceOf?: (role: StackRoleInput) => StackAudienceFinding[];
    audienceError?: string;
}

/** What completing most templates' roles adds. */
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** What the audience check says of most documents. */
const NO_AUDIENCE_FINDINGS: readonly StackAudienceFinding[] = Object.freeze([]);

/**
 * A {@link Checker} for `options`; `stats` (roles, providers, analyses) is updated as inputs are checked. With
 * `templated`, a role whose result is its template's analysis and audience findings, of a kind seen before, is a
 * prerender.ts `TemplatedResult`: for a caller that writes the results as JSON, `depth` arrays deep, with
 * `templatedItem` (its other fields are made when read).
 */
export function createChecker(
    options: AnalysisOptions,
    stats: { roles: number; providers: number; analyses: number } = { roles: 0, providers: 0, analyses: 0 },
    templated?: { depth: number },
): Checker {
    const templates = templated === undefined ? undefined : new Templates(templated.depth, analysisResult);
    // The options are this checker's for its life (its cache holds analyses made under them).
    const templateRead = templateReader(options);
    // Bounded: documents that repeat stay; an export of all-distinct documents does not keep an analysis per role
    // alive next to the copies its results hold.
    const cache = new KeyedCache<Analyzed>(() => new BoundedCache(ANALYSIS_CACHE_ENTRIES));
    const run = { stats };
    const analyzeOnce = (doc: unknown): Analyzed => {
        const text = typeof doc === "string" ? doc : undefined;
        let value = doc;
        try {
            // A text like one seen before but for its names reads its analysis back from that text's template: it
            // has the structure of a text this reader accepted, so it is not even parsed (the audience check reads
            // the template's principals with its names).
            const templated = text === undefined ? undefined : templateRead(text);
            if (templated !== undefined && text !== undefined) return new TemplatedAnalyzed(templated, text);
            // A document given as text is read by the CLI's JSON reader first: too deep or with a duplicated key,
            // it is an error of its own (cached with the text, which is where the duplicate is).
            const read = text === undefined ? undefined : readPolicyText(text);
            if (read && "value" in read) value = read.value;
            return { analysis: read && "analysis" in read ? read.analysis : analyzeTrustPolicy(value, options, text), value };
        } catch (e) {
            return { analysis: { thrown: e }, value };
        }
    };
    // A text read from its template is kept from its second sighting on. An export of distinct texts then keeps none
    // of their analyses and parsed values: they die young instead of being copied into the old generation with the
    // 2,048 entries before them (at 100,000 roles the collector's largest cost). Analyses made the full way (the
    // first of each shape, texts without a template) are kept at once.
    const seen = new KeyedCache<true>(() => new BoundedCache(SEEN_ENTRIES));
    // An export whose texts do not repeat (every role names its own environment) gains nothing from the caches, and
    // asking them costs a hash of each whole text and the maps' upkeep: about 6% of `check` at 10,000 and 100,000
    // such roles. So after a long run of texts that were new and read from their templates, only the texts of one
    // length in DISTINCT_SAMPLE are looked up and remembered; the others are read from their templates, as a new
    // text is. Chosen by length, a text that repeats is always in the sample or always out of it: a repeat in the
    // sample ends the run, and one out of it is read again each time, which gives the same analysis. A text with no
    // template (a new shape, a long or odd text) is looked up as always: reading it the full way costs more.
    let distinctRun = 0;
    const analyze = (doc: unknown): Analyzed => {
        if (distinctRun >= DISTINCT_RUN && typeof doc === "string" && doc.length % DISTINCT_SAMPLE !== 0) {
            // Anything the reading throws is met again below, where `analyzeOnce` makes it the role's error.
            let templated: TemplateRead | undefined;
            try {
                templated = templateRead(doc);
            } catch {
                templated = undefined;
            }
            if (templated !== undefined) {
                stats.analyses++;
                return new TemplatedAnalyzed(templated, doc);
            }
        }
        const key = cacheKey(doc);
        let hit = cache.get(key);
        if (hit === undefined) {
            stats.analyses++;
            hit = analyzeOnce(doc);
            if (hit.fromTemplate === undefined) cache.set(key, hit);
            else if (seen.get(key) !== undefined) {
                cache.set(key, hit);
                distinctRun = 0;
            } else {
                seen.set(key, true);
                distinctRun++;
            }
        } else distinctRun = 0;
        return hit;
    };
    // What an input's roles are checked against (its providers), and how its stack audience check stands: made anew
    // for each `results` of an input; for `roleResults` (a worker thread checks an input's roles in blocks), made when
    // the input is first given and kept while it lives.
    const states = new WeakMap<ExtractedInput, InputState>();
    const stateOf = (input: ExtractedInput): InputState => {
        let state = states.get(input);
        if (state === undefined) {
            state = newState(input);
            states.set(input, state);
        }
        return state;
    };
    const newState = (input: ExtractedInput): InputState => {
        // The providers first: the audience check of each role compares it with them. Their results follow the roles'.
        const state: InputState = { providerResults: [], stackProviders: [] };
        for (const provider of input.providers) {
            run.stats.providers++;
            const { result, url, clientIds, unreadableIds } = checkProvider(provider, options);
            state.providerResults.push(result);
            if (input.stackScoped) {
                const arn = revealValue(provider.arn).value;
                state.stackProviders.push({
                    urn: provider.target.resource?.urn ?? "",
                    arn: typeof arn === "string" ? arn : null,
                    url,
                    // Client IDs that cannot be read are said so on each role that trusts the provider, never passed.
                    ...stackClientIds(clientIds, unreadableIds),
                });
            }
        }
        return state;
    };
    // What every result of the input gets once it is made, in this order: unknowns in the input's words, the stack
    // audience findings of its document (after the rewording, which is about the preview's unknowns), the notes of
    // the input.
    const complete = (
        input: ExtractedInput,
        state: InputState,
        result: CheckResult,
        audience: readonly StackAudienceFinding[],
        property: string,
    ): CheckResult => {
        if (input.unknownSource) rewordUnknowns([result], input.unknownSource);
        if (state.audienceError !== undefined) {
            (result.notes ??= []).push(`internal error in the stack audience check: ${state.audienceError}`);
            result.verdict = worse(result.verdict, "error");
        }
        for (const sf of audience) {
            const { urn: _urn, level, ...finding } = sf;
            if (level === "mandatory") {
                result.findings.push({ ...finding, path: prefixPath(property, finding.path) });
                result.verdict = worse(result.verdict, "fail");
            } else if (!(result.verdict === "unknown" && finding.ruleId === "oidc-trust-unknown-at-preview")) {
                // Advisory (provider outside this stack, or unknown at preview): information, not a violation.
                // An unknown the target's own findings already report is not repeated.
                (result.notes ??= []).push(`advisory (${finding.ruleId}): ${finding.message}`);
            }
        }
        if (input.notes?.length) result.notes = [...(result.notes ?? []), ...input.notes];
        return redactDeep(result);
    };
    function* roleResults(input: ExtractedInput, state: InputState, roles: readonly RoleItem[]): Generator<CheckResult, void, undefined> {
        for (const role of roles) {
            run.stats.roles++;
            const checked = checkRole(role, analyze, templates !== undefined);
            const { revealed, analyzed } = checked;
            // A template's role has no result yet: what it admits is read alone.
            const view = checked.result === undefined ? checked.analyzed.admitted() : checked.result;
            // Roles no Pulumi token can use (and malformed ones) have nothing to compare with a provider.
            const relevant = view.verdict === "unknown" || (view.admitted?.length ?? 0) > 0;
            let audience: readonly StackAudienceFinding[] = NO_AUDIENCE_FINDINGS;
            if (input.stackScoped && state.audienceError === undefined && revealed !== undefined && relevant && role.target.resource) {
                // The audience check depends only on a role's trust policy (and the stack's providers): its findings
                // are kept with the document's analysis, so a document the analysis cache keeps is checked once per
                // input, and one it does not keep (an export of 100,000 distinct policies) leaves nothing behind. The
                // document is the one its analysis read (a text's parsed value): the check neither parses the text
                // again nor looks for unknowns the analysis already ruled out.
                const known = analyzed ?? analyze(revealed);
                if (known.audience?.of !== input) {
                    const analysis = known instanceof TemplatedAnalyzed ? known.admitted() : known.analysis;
                    try {
                        state.audienceOf ??= stackAudienceCheck(state.stackProviders, options);
                        const trustPolicy = known instanceof TemplatedAnalyzed ? known.principals() : known.value;
                        const findings = state.audienceOf({ urn: "", trustPolicy, ...("verdict" in analysis ? { analysis } : {}) });
                        known.audience = { of: input, findings: findings.length === 0 ? NO_AUDIENCE_FINDINGS : findings };
                    } catch (e) {
                        // Fails closed: this role and every result of the input after it say so (the ones before
                        // have been given already, each with its own audience check done).
                        state.audienceError = e instanceof Error ? e.message : String(e);
                    }
                }
                if (known.audience?.of === input) audience = known.audience.findings;
            }
            if (checked.result !== undefined) {
                yield complete(input, state, checked.result, audience, role.property);
                continue;
            }
            const a = checked.analyzed;
            // What completing its result would add, found on a result with no findings of its own (most roles: nothing
            // to add). With nothing but findings added (no note, nothing reworded), the role is its template's analysis
            // and those findings; anything else is made in full.
            let verdict = view.verdict;
            let added: readonly Finding[] = NO_FINDINGS;
            if (audience.length > 0 || state.audienceError !== undefined || input.unknownSource !== undefined || input.notes?.length) {
                // What completing adds, redacted as `complete` redacts every result.
                const adds = complete(input, state, { target: role.target, verdict, findings: [] }, audience, role.property);
                if (adds.notes !== undefined || input.unknownSource !== undefined) {
                    yield complete(input, state, analysisResult(role.target, role.property, a.analysis), audience, role.property);
                    continue;
                }
                verdict = adds.verdict;
                added = adds.findings;
            }
            const made = templates!.result({ target: role.target, property: role.property, read: a.fromTemplate, order: a.admitted().order, verdict, added });
            // A role written from its kind's pieces holds nothing credential-shaped (prerender.ts); one made in full is
            // redacted as every other result.
            yield made instanceof TemplatedResult ? made : redactDeep(made);
        }
    }
    function* results<R>(input: ExtractedInput, file: string, stage?: RoleStage<R>): Generator<CheckResult | R, void, undefined> {
        const state = newState(input);
        // An input that says it is incomplete (a failed preview) is an error of its own, before its roles' results.
        if (input.incomplete !== undefined) {
            const { message, remediation } = input.incomplete;
            yield complete(input, state, { target: { file }, verdict: "error", findings: [documentFinding(`${file} is ${message}.`, remediation)] }, NO_AUDIENCE_FINDINGS, "");
        }
        if (stage === undefined) yield* roleResults(input, state, input.roles);
        else {
            yield* stage(input, {
                results: (roles) => roleResults(input, state, roles),
                failed: () => state.audienceError !== undefined,
            });
        }
        for (const result of state.providerResults) yield complete(input, state, result, NO_AUDIENCE_FINDINGS, "");

        // Every role and every provider has a result (a stage gives one for each role): none means an empty input
        // (an incomplete one has said so already).
        if (input.roles.length === 0 && input.providers.length === 0 && input.incomplete === undefined) {
            const what =
                input.kind === "preview" ? "steps" : input.kind.startsWith("aws-") ? "entries" : "resources";
            yield complete(
                input,
                state,
                {
                    target: { file },
                    verdict: "pass",
                    findings: [],
                    notes: [
                        `no IAM roles or OIDC providers in this input (${input.kind}, ${input.entries} ${what})`,
                        // Seen with the real CLI: the --json digest has no step for a resource the update leaves as is.
                        ...(input.kind === "preview" ? [PREVIEW_LISTS_CHANGES_ONLY] : []),
                    ],
                },
                NO_AUDIENCE_FINDINGS,
                "",
            );
        }
    }
    return {
        checkInput: (input, file) => Array.from(results(input, file)),
        results,
        roleResults: (input, roles) => roleResults(input, stateOf(input), roles),
        audienceFailed: (input) => stateOf(input).audienceError !== undefined,
    };
}

/** Unknown findings in the words of the input (CloudFormation: deployment; Terraform: apply) instead of Pulumi's preview. */
function rewordUnknowns(results: CheckResult[], source: { when: string; remediation: string }): void {
    for (const r of results) {
        if (r.verdict !== "unknown") continue;
        for (const f of r.findings) {
            if (f.ruleId === "oidc-trust-unknown-at-preview") {
                f.message = `the trust policy cannot be verified from this input: ${f.path || "the whole value"} is ${source.when}`;
                f.remediation = source.remediation;
            } else if (f.ruleId === "oidc-provider-config" && f.message.includes("unknown during preview")) {
                f.message = f.message.replace(/unknown during preview; it is checked at update/, source.when);
                f.remediation = source.remediation;
            }
        }
        if (r.notes) r.notes = r.notes.map((n) => n.replace(/^unknown at preview: /, `${source.when}: `));
    }
}

type ReadInput =
    /** `json`: the text is JSON as it is (no byte order mark): `JSON.parse` accepted it. */
    | { input: ExtractedInput; json: boolean }
    | { problem: string; remediation: string; kind: "invalid-json" | "invalid-yaml" | "terraform-source" }
    | { skip: true };

const JSON_REMEDIATION =
    "Fix the syntax at that position (inputs are JSON, or YAML for CloudFormation templates: a trust policy, " +
    "`pulumi stack export`, `pulumi preview --json`, a CloudFormation template, `terraform show -json` or AWS CLI `--output json`).";

/** Parses one input: JSON first, then (for text that is not JSON) a YAML CloudFormation template. */
function readInput(f: InputFile, text: string, counted?: () => number | undefined): ReadInput {
    const parsed = parseJson(text, counted);
    if (parsed.ok) {
        const input = extractInput(f.shown, parsed.value, { resourceLines: () => jsonResourceLines(text, true) });
        if (parsed.duplicates.length > 0) keepDuplicates(input);
        return { input, json: text.charCodeAt(0) !== 0xfeff };
    }
    // Parsed once: a text that looks like a template but is not one is said below to be YAML of another kind.
    let yaml: YamlTemplate | undefined;
    if (looksLikeYamlTemplate(text)) {
        yaml = parseYamlTemplate(text);
        if (!yaml.ok) {
            return {
                kind: "invalid-yaml",
                problem: `not a valid YAML CloudFormation template: ${yaml.message} at line ${yaml.line} column ${yaml.column}`,
                remediation: "Fix the YAML at that position (`cfn-lint` or `aws cloudformation validate-template` show more).",
            };
        }
        if (isCloudFormationTemplate(yaml.value)) {
            const { resourceLines } = yaml;
            return { input: extractInput(f.shown, yaml.value, { resourceLines: () => resourceLines }), json: false };
        }
    }
    if (f.onlyIfTemplate) return { skip: true };
    // A YAML file named on the command line that is not a template this tool reads: said as YAML, not as bad JSON.
    if (/\.ya?ml$/i.test(f.shown) || yaml !== undefined) {
        yaml ??= parseYamlTemplate(text);
        return yaml.ok
            ? {
                  kind: "invalid-yaml",
                  problem: "YAML, but not a CloudFormation template: it has no Resources section whose entries name a Type (other inputs are JSON)",
                  remediation:
                      "Pass a CloudFormation template (YAML or JSON), or the JSON form of the input: a trust policy, `pulumi stack export`, `pulumi preview --json`, `terraform show -json` or AWS CLI `--output json`.",
              }
            : {
                  kind: "invalid-yaml",
                  problem: `not valid YAML: ${yaml.message} at line ${yaml.line} column ${yaml.column}`,
                  remediation: "Fix the YAML at that position, or pass the JSON form of the input.",
              };
    }
    if (looksLikeTerraformSource(text)) {
        return { kind: "terraform-source", problem: `Terraform source (HCL), not JSON: ${TF_PLAN_HINT}`, remediation: TF_PLAN_HINT };
    }
    const problem = parsed.problem.message.startsWith("nested deeper")
        ? `too deeply nested to read: ${describeJsonProblem(parsed.problem)}`
        : `not valid JSON: ${describeJsonProblem(parsed.problem)}`;
    return { kind: "invalid-json", problem, remediation: JSON_REMEDIATION };
}

/**
 * Gives each role whose trust policy is an object the keys it repeats ({@link RoleItem.duplicates}), for a file whose
 * JSON repeats a key somewhere: they are known only to this thread (json.ts), and a worker thread that checks the
 * role must find them as this thread does.
 */
function keepDuplicates(input: ExtractedInput): void {
    const repeated = (doc: unknown): readonly DuplicateKey[] | undefined => {
        if (doc === null || typeof doc !== "object") return undefined;
        const found = findDuplicateKeys(doc);
        return found.length > 0 ? found : undefined;
    };
    for (const role of input.roles) {
        const found = repeated(role.trustPolicy);
        if (found !== undefined) role.duplicates = found;
        for (const variant of role.variants ?? []) {
            const inVariant = repeated(variant.trustPolicy);
            if (inVariant !== undefined) variant.duplicates = inVariant;
        }
    }
}

/** Why a preview can hold no role although the stack has some. */
export const PREVIEW_LISTS_CHANGES_ONLY =
    "pulumi preview --json lists only resources the update would change; roles it leaves as they are are not in it: " +
    "check 'pulumi stack export' for them";

function describeTarget(target: CheckTarget): string {
    return target.resource ? `trust policy of ${target.resource.name}` : "trust policy";
}

/** A role's result, its trust policy as its analysis read it, and that analysis (none when it was not analysed). */
type Checked =
    | { result: CheckResult; revealed: unknown; analyzed?: Analyzed }
    /** A template's role when asked for no result ({@link checkOne}'s `lazy`): the caller makes it. */
    | { result?: undefined; revealed: unknown; analyzed: TemplatedAnalyzed };
/** A role checked with its result made. */
type Made = Extract<Checked, { result: CheckResult }>;

/** One role: reveal secrets, then analyse (cached) or explain why it cannot be. */
function checkRole(role: RoleItem, analyze: (doc: unknown) => Analyzed): Made;
function checkRole(role: RoleItem, analyze: (doc: unknown) => Analyzed, lazy: boolean): Checked;
function checkRole(role: RoleItem, analyze: (doc: unknown) => Analyzed, lazy = false): Checked {
    if (role.variants !== undefined && role.variants.length > 1) return checkVariants(role, role.variants, analyze);
    if (!role.notes?.length) return checkOne(role, analyze, lazy);
    const checked = checkOne(role, analyze);
    checked.result.notes = [...(checked.result.notes ?? []), ...role.notes];
    return checked;
}

/** A role whose trust policy depends on `Fn::If` conditions: every variant is checked and the worst one reported. */
function checkVariants(
    role: RoleItem,
    variants: NonNullable<RoleItem["variants"]>,
    analyze: (doc: unknown) => Analyzed,
): Made {
    let worst: (Made & { assumption: string }) | undefined;
    const byBranch: string[] = [];
    for (const v of variants) {
        const variant: RoleItem = { target: role.target, property: role.property, trustPolicy: v.trustPolicy, notes: v.notes };
        if (v.duplicates !== undefined) variant.duplicates = v.duplicates;
        const one = checkRole(variant, analyze);
        byBranch.push(`${v.assumption}: ${one.result.verdict}`);
        if (worst === undefined || VERDICT_RANK[one.result.verdict] > VERDICT_RANK[worst.result.verdict]) {
            worst = { ...one, assumption: v.assumption };
        }
    }
    const result = worst!.result;
    result.notes = [
        ...(result.notes ?? []),
        `the trust policy depends on Fn::If conditions: every combination was checked (${byBranch.join("; ")}); ` +
            `reported: the worst, with ${worst!.assumption}`,
    ];
    return { result, revealed: worst!.revealed, analyzed: worst!.analyzed };
}

/**
 * One role: reveal secrets, then analyse (cached) or explain why it cannot be. With `lazy`, a trust policy read from
 * a template, with no secret, is given no result: the caller makes it (prerender.ts).
 */
function checkOne(role: RoleItem, analyze: (doc: unknown) => Analyzed): Made;
function checkOne(role: RoleItem, analyze: (doc: unknown) => Analyzed, lazy: boolean): Checked;
function checkOne(role: RoleItem, analyze: (doc: unknown) => Analyzed, lazy = false): Checked {
    const target = role.target;
    const what = describeTarget(target);
    if (role.trustPolicy === undefined) {
        return {
            result: {
                target,
                verdict: "error",
                findings: [
                    documentFinding(
                        `The role has no ${role.property || "trust policy"}: there is nothing to check.`,
                        "Check that the input is complete (a stack export or AWS listing that records the role's trust policy).",
                        role.property,
                    ),
                ],
            },
            revealed: undefined,
        };
    }
    const { value, unreadable, hadSecret } = revealValue(role.trustPolicy);
    if (unreadable.length > 0) {
        return {
            result: {
                target,
                verdict: "unknown",
                findings: unreadableFindings(unreadable, role.property, what),
            },
            revealed: undefined,
        };
    }
    const duplicates = [...new Set([...(role.duplicates ?? findDuplicateKeys(role.trustPolicy)), ...findDuplicateKeys(value)])];
    const analyzed = duplicates.length > 0 ? undefined : analyze(value);
    // A template's role: its result is made by the caller, if at all (its analysis read back only then).
    if (lazy && !hadSecret && analyzed instanceof TemplatedAnalyzed) return { revealed: value, analyzed };
    const analysis = analyzed === undefined ? errorAnalysis(duplicateFindings(duplicates)) : analyzed.analysis;
    if ("thrown" in analysis) return { result: { target, ...internalError(what, analysis.thrown) }, revealed: value, analyzed };
    if (!hadSecret) return { result: analysisResult(target, role.property, analysis), revealed: value, analyzed };
    const result = analysisResult(target, role.property, analysis, SECRET_NOTE);
    return { result, revealed: value, analyzed };
}

const SECRET_NOTE = "the trust policy is stored as a secret; the findings quote only the conditions they are about";

/**
 * A role's result as its trust policy's analysis makes it, its findings' paths under the policy's `property`, with
 * `note` last; no notes, no `notes`. Results written from a template (prerender.ts) are made by it too.
 */
function analysisResult(target: CheckTarget, property: string, analysis: TrustAnalysis, note?: string): CheckResult {
    const result: CheckResult = {
        target,
        verdict: analysis.verdict,
        findings: analysis.findings.map((fd) => ({ ...fd, path: prefixPath(property, fd.path) })),
        admitted: analysis.admitted,
        notes: [...analysis.notes],
    };
    if (analysis.verdict === "unknown" && analysis.findings.length === 0 && analysis.unknownPaths?.length) {
        result.notes!.push(`unknown at preview: ${analysis.unknownPaths.map((p) => prefixPath(property, p) || "(the whole value)").join(", ")}`);
    }
    if (note !== undefined) result.notes!.push(note);
    if (result.notes!.length === 0) delete result.notes;
    return result;
}

/**
 * A provider's client IDs as the stack audience check takes them: as read; a display-form unknown as the engine's
 * unknown (decided at update); ciphertext or `[secret]` as client IDs it cannot read, with why.
 */
function stackClientIds(clientIds: unknown, unreadable: readonly Unreadable[]): Pick<StackProviderInput, "clientIds" | "clientIdsUnreadable"> {
    if (unreadable.length === 0) return { clientIds };
    if (unreadable.some((u) => u.reason === "ciphertext")) return { clientIds, clientIdsUnreadable: "are stored as an encrypted secret (ciphertext)" };
    if (unreadable.some((u) => u.reason === "redacted-secret")) {
        return { clientIds, clientIdsUnreadable: 'are a secret, which `pulumi preview --json` prints as "[secret]"' };
    }
    return { clientIds: UNKNOWN_SENTINELS[0] };
}

/** One OIDC provider: reveal secrets, then analyse. */
function checkProvider(
    provider: ProviderItem,
    options: AnalysisOptions,
): { result: CheckResult; url: unknown; clientIds: unknown; unreadableIds: readonly Unreadable[] } {
    const target = provider.target;
    const url = revealValue(provider.url);
    const clientIds = revealValue(provider.clientIds);
    const unreadable = [
        ...url.unreadable.map((u) => ({ ...u, path: prefixPath("url", u.path) })),
        ...clientIds.unreadable.map((u) => ({ ...u, path: prefixPath("clientIds", u.path) })),
    ];
    if (unreadable.length > 0) {
        return {
            result: { target, verdict: "unknown", findings: unreadableFindings(unreadable, "", "provider setting") },
            url: url.value,
            clientIds: clientIds.value,
            unreadableIds: clientIds.unreadable,
        };
    }
    let result: CheckResult;
    try {
        const analysis = analyzeOidcProvider({ url: url.value, clientIds: clientIds.value }, options);
        result = { target, verdict: analysis.verdict, findings: [...analysis.findings] };
        if (!analysis.isPulumiIssuer && analysis.verdict !== "unknown") {
            result.notes = [
                `not a Pulumi issuer${analysis.issuer ? ` (${analysis.issuer})` : ""}: out of scope`,
            ];
        }
    } catch (e) {
        result = { target, ...internalError("the OIDC provider", e) };
    }
    if (provider.notes?.length) result.notes = [...(result.notes ?? []), ...provider.notes];
    return { result, url: url.value, clientIds: clientIds.value, unreadableIds: clientIds.unreadable };
}
