/**
 * What every output of the CLI must be, whatever its input: the assertions the mutation tests of `check`, `report`
 * (`commands/mutated-inputs.test.ts`) and `verify` (`verify/mutated-responses.test.ts`) make of each run. The marker
 * they put into their inputs is `MARK` of the pack's `testing/mutate.ts`.
 */
import assert from "node:assert/strict";
import { XMLValidator } from "fast-xml-parser";
import { MARK_CONTROLS } from "oidc-guard-policypack/testing/mutate";

const hasControl = (s: string): boolean => MARK_CONTROLS.some((c) => s.includes(c));

/**
 * A run is safe when:
 * - it ends with one of `codes` (never 70, the internal error), and prints no stack trace;
 * - no line of stdout or stderr starts with `::` (a CI runner's workflow command);
 * - none of the marker's control characters is printed raw, in any format but JSON and SARIF (which escape them as
 *   JSON does) nor on stderr;
 * - the marker's markup is never printed raw into HTML or JUnit XML, nor into Markdown outside code;
 * - JSON and SARIF parse, and JUnit XML is well formed.
 */
export function assertSafe(what: string, format: string, r: { code: number; out: string; err: string }, codes: readonly number[] = [0, 1, 2]): void {
    assert.ok(codes.includes(r.code), `${what}: exit ${r.code}\n${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at \S.*[(:]\d/, `${what}: a stack trace on stderr`);
    assert.ok(!hasControl(r.err), `${what}: a control character on stderr`);
    // A CI runner reads `::command::` at the start of any line of the log (after spaces), in every format.
    for (const [stream, text] of [["stdout", r.out], ["stderr", r.err]] as const) {
        assert.doesNotMatch(text, /^\s*::/m, `${what}: a line of ${stream} starts a CI workflow command`);
    }
    if (r.out === "") return;
    switch (format) {
        case "json":
        case "sarif":
            assert.doesNotThrow(() => JSON.parse(r.out), `${what}: the ${format} report does not parse`);
            return;
        case "junit":
            assert.equal(XMLValidator.validate(r.out), true, `${what}: the JUnit XML is not well formed`);
            assert.ok(!r.out.includes("<b>"), `${what}: input markup raw in JUnit XML`);
            break;
        case "html":
            assert.ok(!r.out.includes("<b>"), `${what}: input markup raw in HTML`);
            break;
        case "markdown":
            assert.ok(!outsideCode(r.out).includes("<b>"), `${what}: input markup raw in Markdown`);
            break;
    }
    assert.ok(!hasControl(r.out), `${what}: a control character in the ${format} output`);
}

/**
 * Markdown with its code left out, as CommonMark reads it: fenced code blocks, and code spans (a run of backticks not
 * escaped by a backslash, up to the next run of the same length; inside, a backslash is literal), within a line as
 * the reports write them. In code, markup is shown as written, not rendered.
 */
export function outsideCode(markdown: string): string {
    const unfenced = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
    return unfenced.split("\n").map(textOutsideSpans).join("\n");
}

function textOutsideSpans(line: string): string {
    const runLength = (at: number): number => {
        let n = 0;
        while (line[at + n] === "`") n++;
        return n;
    };
    let out = "";
    let i = 0;
    while (i < line.length) {
        const c = line[i]!;
        if (c === "\\" && i + 1 < line.length && /[!-/:-@[-`{-~]/.test(line[i + 1]!)) {
            i += 2; // an escaped character is literal text: it opens no markup and no code span
            continue;
        }
        if (c !== "`") {
            out += c;
            i++;
            continue;
        }
        const n = runLength(i);
        let close = -1;
        for (let j = i + n; j < line.length; ) {
            const m = runLength(j);
            if (m === n) {
                close = j;
                break;
            }
            j += m > 0 ? m : 1;
        }
        if (close < 0) i += n; // no closing run: the backticks are text
        else i = close + n;
    }
    return out;
}
