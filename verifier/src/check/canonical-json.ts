/**
 * Canonical JSON: one text for every way of writing the same value (object keys sorted), so that equal documents
 * written differently compare equal and share one analysis.
 */

/** A piece of canonical JSON text already written out (as opposed to a value still to be written). */
class Text {
    constructor(readonly s: string) {}
}

/**
 * Canonical JSON (keys sorted) so that equal documents written differently share one analysis. Iterative (an
 * explicit stack), so the depth of the document cannot exhaust the call stack.
 */
export function canonical(root: unknown): string {
    const out: string[] = [];
    const stack: unknown[] = [root];
    while (stack.length > 0) {
        const v = stack.pop();
        if (v instanceof Text) {
            out.push(v.s);
            continue;
        }
        const parts: unknown[] = [];
        if (Array.isArray(v)) {
            parts.push(new Text("["));
            (v as unknown[]).forEach((e, i) => {
                if (i > 0) parts.push(new Text(","));
                parts.push(e);
            });
            parts.push(new Text("]"));
        } else if (v !== null && typeof v === "object") {
            parts.push(new Text("{"));
            Object.keys(v)
                .sort()
                .forEach((k, i) => parts.push(new Text(`${i > 0 ? "," : ""}${JSON.stringify(k)}:`), (v as Record<string, unknown>)[k]));
            parts.push(new Text("}"));
        } else {
            out.push(JSON.stringify(v) ?? "undefined");
            continue;
        }
        for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]);
    }
    return out.join("");
}
