/**
 * The trust policy analysis the two role policies share. The SDK runs every resource policy on a resource one after
 * the other: pulumi-oidc-role-trust-pinned reports the analysis's violations, then pulumi-oidc-role-trust-advisories
 * its advisories. The second finds the first's analysis here instead of reading, renaming and copying the document
 * again (a quarter of the pack's own time per role).
 */
import { analyzeTrustPolicy, type AnalysisOptions, type TrustAnalysis } from "../../analysis/index.js";

/** The last analysis of a document given as text, with the options it ran under (as JSON). */
let last: { doc: string; options: string; analysis: TrustAnalysis } | undefined;

/**
 * `analyzeTrustPolicy(doc, options)`, remembered for the next call with the same text and equal options. The result
 * is shared between its callers, who only read it. A result that ran out of time (`error`) is not kept: whether a
 * document fits its budget depends on the machine's load, as in the analysis's own cache.
 */
export function analyzeRoleTrust(doc: unknown, options: AnalysisOptions): TrustAnalysis {
    if (typeof doc !== "string") return analyzeTrustPolicy(doc, options);
    const key = JSON.stringify(options);
    if (last !== undefined && last.doc === doc && last.options === key) return last.analysis;
    const analysis = analyzeTrustPolicy(doc, options);
    last = analysis.verdict === "error" ? undefined : { doc, options: key, analysis };
    return analysis;
}
