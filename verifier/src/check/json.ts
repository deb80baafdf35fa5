/**
 * JSON reading for `oidc-guard check`. `JSON.parse` does the work; when it fails, a small scanner finds where and
 * why, because V8's own messages quote a slice of the input (which may hold secrets) and often give no position.
 */

/** Where and why a text is not valid JSON. `line` and `column` are 1-based. */
export interface JsonSyntaxProblem {
    message: string;
    line: number;
    column: number;
}

/** The outcome of {@link parseJson}: a value, or a problem that quotes at most one character of the input. */
export type JsonParseResult = { ok: true; value: unknown } | { ok: false; problem: JsonSyntaxProblem };

/** Parses `text` (a UTF-8 BOM is ignored). On failure, says where the text stops being JSON. */
export function parseJson(text: string): JsonParseResult {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    try {
        return { ok: true, value: JSON.parse(body) as unknown };
    } catch {
        return { ok: false, problem: locateJsonError(body) };
    }
}

/** Formats a problem as `<message> at line L column C`. */
export function describeJsonProblem(p: JsonSyntaxProblem): string {
    return `${p.message} at line ${p.line} column ${p.column}`;
}

class ScanError extends Error {
    constructor(
        message: string,
        readonly offset: number,
    ) {
        super(message);
    }
}

/**
 * Scans `text` as JSON (RFC 8259) and returns the first problem. Only called after `JSON.parse` failed, so speed
 * does not matter; it is iterative over containers so deep nesting cannot overflow the stack.
 */
export function locateJsonError(text: string): JsonSyntaxProblem {
    try {
        scan(text);
        // JSON.parse rejected what this scanner accepts: say so without guessing a position.
        return { message: "not valid JSON", line: 1, column: 1 };
    } catch (e) {
        if (!(e instanceof ScanError)) throw e;
        const { line, column } = lineColumn(text, e.offset);
        return { message: e.message, line, column };
    }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
        if (text.charCodeAt(i) === 10) {
            line++;
            lineStart = i + 1;
        }
    }
    return { line, column: offset - lineStart + 1 };
}

/** Shows one character of the input: enough to find it, too little to leak a value. */
function describeChar(ch: string | undefined): string {
    if (ch === undefined) return "end of input";
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    return `token ${ch}`;
}

function scan(text: string): void {
    let i = 0;
    const n = text.length;
    const ws = (): void => {
        while (i < n) {
            const c = text.charCodeAt(i);
            if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
            else break;
        }
    };
    const unexpected = (): never => {
        throw new ScanError(`Unexpected ${describeChar(text[i])}`, i);
    };
    const scanString = (): void => {
        // text[i] === '"'
        i++;
        for (;;) {
            if (i >= n) throw new ScanError("Unterminated string", i);
            const c = text.charCodeAt(i);
            if (c === 0x22) {
                i++;
                return;
            }
            if (c < 0x20) throw new ScanError(`Unexpected ${describeChar(text[i])} in string`, i);
            if (c === 0x5c) {
                const e = text[i + 1];
                if (e === undefined) throw new ScanError("Unterminated string", i + 1);
                if ('"\\/bfnrt'.includes(e)) i += 2;
                else if (e === "u") {
                    if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new ScanError("Bad \\u escape", i);
                    i += 6;
                } else throw new ScanError("Bad escape in string", i);
                continue;
            }
            i++;
        }
    };
    const scanNumber = (): void => {
        const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
        if (!m || m[0] === "-" || m[0] === "") unexpected();
        i += m![0].length;
    };
    const scanLiteral = (): boolean => {
        for (const lit of ["true", "false", "null"]) {
            if (text.startsWith(lit, i)) {
                i += lit.length;
                return true;
            }
        }
        return false;
    };
    // Stack of open containers: "[" or "{".
    const stack: string[] = [];
    // After a value inside a container: expect , or the closer.
    const afterValue = (): void => {
        for (;;) {
            ws();
            const top = stack[stack.length - 1];
            if (top === undefined) return;
            const c = text[i];
            if (c === ",") {
                i++;
                ws();
                if (top === "{") {
                    if (text[i] !== '"') {
                        throw new ScanError(`Expected a property name but found ${describeChar(text[i])}`, i);
                    }
                    member();
                }
                return;
            }
            if ((top === "[" && c === "]") || (top === "{" && c === "}")) {
                i++;
                stack.pop();
                continue;
            }
            throw new ScanError(
                `Expected ',' or '${top === "[" ? "]" : "}"}' but found ${describeChar(c)}`,
                i,
            );
        }
    };
    const member = (): void => {
        scanString();
        ws();
        if (text[i] !== ":") throw new ScanError(`Expected ':' but found ${describeChar(text[i])}`, i);
        i++;
    };
    ws();
    if (i >= n) throw new ScanError("Empty input: expected a JSON value", i);
    for (;;) {
        ws();
        const c = text[i];
        if (c === "{") {
            i++;
            ws();
            if (text[i] === "}") {
                i++;
                afterValue();
            } else if (text[i] === '"') {
                stack.push("{");
                member();
                continue;
            } else throw new ScanError(`Expected a property name or '}' but found ${describeChar(text[i])}`, i);
        } else if (c === "[") {
            i++;
            ws();
            if (text[i] === "]") {
                i++;
                afterValue();
            } else {
                stack.push("[");
                continue;
            }
        } else {
            if (c === '"') scanString();
            else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) scanNumber();
            else if (!scanLiteral()) unexpected();
            afterValue();
        }
        if (stack.length === 0) {
            ws();
            if (i < n) throw new ScanError(`Unexpected ${describeChar(text[i])} after the JSON value`, i);
            return;
        }
    }
}
