/**
 * The parts of the ESC API's JSON that the verifier reads, as they are on the wire (DOMAIN.md §4; pulumi/esc
 * `value.go`, `expr.go`). Kept here, apart from the SDK's generated models, so only esc.ts imports @pulumi/esc-sdk.
 */

/** A source position. */
export interface EscPos {
    line: number;
    column: number;
    byte?: number;
}

/** A range in an environment definition. `environment` is `<project>/<env>` (or empty). */
export interface EscRange {
    environment?: string;
    begin: EscPos;
    end: EscPos;
}

/**
 * A node of `properties`: `value` is a string, number, boolean, null, an array of EscValue or a map of EscValue.
 * An unknown value has no `value` key (Go `omitempty`); so has null.
 */
export interface EscValue {
    value?: unknown;
    secret?: boolean;
    unknown?: boolean;
    trace?: { def?: EscRange; base?: EscValue };
}

/** A node of `exprs`: one of literal / interpolate / symbol / access / list / object / builtin. */
export interface EscExpr {
    range?: EscRange;
    literal?: unknown;
    interpolate?: { text?: string; value?: unknown[] }[];
    symbol?: unknown[];
    list?: EscExpr[];
    object?: Record<string, EscExpr>;
    builtin?: { name: string; nameRange?: EscRange; arg?: EscExpr };
}

/** The body of `GET .../open/{id}`. */
export interface EscEnvironment {
    exprs?: Record<string, EscExpr>;
    properties?: Record<string, EscValue>;
    schema?: unknown;
    executionContext?: unknown;
}

/** One diagnostic of a failed open (HTTP 400). */
export interface EscDiagnostic {
    summary: string;
    path?: string;
    range?: EscRange;
}

/** An environment as `GET /environments/{org}` lists it. */
export interface EscListedEnvironment {
    organization?: string;
    project: string;
    name: string;
}
