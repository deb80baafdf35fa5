/** Trust policy analysis. (Contract; implementation in progress.) */
import type { AnalysisOptions, TrustAnalysis } from "./types.js";

/** Thrown inside the analysis for malformed documents; analyzeTrustPolicy turns it into verdict `error`. */
export class PolicyDocumentError extends Error {
    constructor(
        message: string,
        readonly path: string,
    ) {
        super(message);
        this.name = "PolicyDocumentError";
    }
}

export function analyzeTrustPolicy(_doc: unknown, _options: AnalysisOptions = {}): TrustAnalysis {
    throw new Error("not implemented");
}
