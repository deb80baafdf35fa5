/**
 * Escaping for every medium the CLI writes to, one function per medium. Every value that came from input (file
 * names, resource names, URNs, environment names, ARNs STS returned, stack output values, service messages) goes
 * through the function of the medium it is printed to:
 *
 * | medium                     | function                  | what happens                                                  |
 * |----------------------------|---------------------------|---------------------------------------------------------------|
 * | terminal / plain text      | {@link escapeText}        | control characters shown as `\x1b`, `\n`, `\r`, `\u2028`…     |
 * | CI log (whole output)      | {@link guardCiLog}        | `\` before a line's `::`; `##[`, `##vso[` spelt otherwise      |
 * | JSON                       | {@link escapeJsonOutput}  | C1, DEL, U+2028/9 and bidi controls as `\uXXXX` (C0 is JSON's) |
 * | JSON, as UTF-8 bytes       | {@link encodeJsonOutput}  | the same, then encoded                                        |
 * | Markdown                   | {@link escapeMarkdown}    | controls shown (CR and every line terminator), punctuation    |
 * | HTML                       | {@link escapeHtml}        | controls shown, `& < > " '` as entities                       |
 * | XML (JUnit)                | {@link escapeXml}         | controls shown, `& < > " '` as entities                       |
 *
 * "Control characters" here: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F, U+0085 NEL included), the line and
 * paragraph separators U+2028/U+2029, and the bidirectional controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069: every Bidi_Control)
 * that can make a terminal or a page show text other than what it holds.
 */
import { breakInlineCommands, CONTROL_CHARACTER, showControl } from "oidc-guard-policypack/analysis";
import { mapStringsDeep } from "./deep.js";

/** Matches one control character (see the module comment; the pack's messages use the same definition). */
const CONTROL = new RegExp(CONTROL_CHARACTER.source, "g");
/** The same, but keeping newline and tab (for multi-line blocks: a quoted statement, a fenced code block). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_BUT_NL_TAB = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/**
 * The same two, not global: for `test`, which stops at the first control character and changes nothing. Nearly no
 * value holds one, and a `replace` that finds nothing still costs twice a `test` (measured over a 100,000-role text
 * report, where every shown value is escaped).
 */
const HAS_CONTROL = new RegExp(CONTROL.source);
const HAS_CONTROL_BUT_NL_TAB = new RegExp(CONTROL_BUT_NL_TAB.source);
/**
 * What {@link escapeText} may change anything for: a control character, or a `#` (of an in-line CI command's `##`).
 * One character class: an alternation (`[…]|##`) tests two thirds slower, a class with `#` as fast as without.
 */
const HAS_TEXT_WORK = new RegExp(`[${CONTROL.source.slice(1, -1)}#]`);
const HAS_TEXT_WORK_BUT_NL_TAB = new RegExp(`[${CONTROL_BUT_NL_TAB.source.slice(1, -1)}#]`);

/**
 * Terminal and plain text: every control character is shown as an escape (`\x1b`, `\n`, `\r`, `\x9b`, `\u2028`),
 * so a value can neither move the cursor, change colours, set the window title, ring the bell, end a line nor
 * start one; and `##[`, `##vso[` are written `##\[`, `##vso\[`, so that no CI runner reads a command in it
 * ({@link guardCiLog}). `keepNewlines` keeps `\n` and `\t` (for blocks the tool itself spreads over lines).
 */
export function escapeText(value: string, options?: { keepNewlines?: boolean }): string {
    // One test answers for nearly every value (no control character, no `##`): a report shows millions of them.
    if (!(options?.keepNewlines === true ? HAS_TEXT_WORK_BUT_NL_TAB : HAS_TEXT_WORK).test(value)) return value;
    return guardInlineCommands(showControls(value, options), "text");
}

/** {@link escapeText}'s controls alone: what the media that spell `[` their own way build on. */
function showControls(value: string, options?: { keepNewlines?: boolean }): string {
    if (options?.keepNewlines === true) return HAS_CONTROL_BUT_NL_TAB.test(value) ? value.replace(CONTROL_BUT_NL_TAB, showControl) : value;
    return HAS_CONTROL.test(value) ? value.replace(CONTROL, showControl) : value;
}

/** A deep copy of `value` with {@link escapeText} applied to every string (object keys too). Iterative. */
export function escapeTextDeep<T>(value: T): T {
    return mapStringsDeep(value, (s) => escapeText(s));
}

/** What a CI log guard writes its output in: the form a `[` takes there without changing what the output holds. */
export type CiLogMedium = "text" | "json" | "xml" | "markdown" | "html";

/**
 * `[` in each medium, spelt so that no runner reads `##[`: a backslash in text (as `\::`) and Markdown (its own
 * escape), `\u005b` in JSON (a string's escape: `##[` can only stand inside a string there), a character reference
 * in XML and HTML. Every reader of the output gets the same text back.
 */
const OPEN_BRACKET: Readonly<Record<CiLogMedium, string>> = { text: "\\[", json: "\\u005b", xml: "&#91;", markdown: "\\[", html: "&#91;" };

/**
 * CI logs: no value can issue a workflow command.
 * - A line that would start with `::` (GitHub Actions reads `::command::` after leading white space, which its
 *   runner trims as .NET does: spaces, tabs, no-break spaces and every other Unicode space) gets a backslash in front,
 *   so no value can issue `::error::`, `::add-mask::` or `::stop-commands::`.
 * - `##[` and `##vso[`, anywhere, get their `[` in the medium's other spelling ({@link OPEN_BRACKET}).
 * The tool's own workflow commands are written past this guard.
 */
export function guardCiLog(text: string, medium: CiLogMedium = "text"): string {
    const guarded = guardInlineCommands(text, medium);
    // Reports hold `::` in every URN but almost never at a line's start: find that case with `indexOf` first (the
    // multi-line expression alone tries every position of a 340 MB SARIF log).
    for (let at = guarded.indexOf("::"); at >= 0; at = guarded.indexOf("::", at + 2)) {
        let i = at - 1;
        while (i >= 0 && isLineSpace(guarded.charCodeAt(i))) i--;
        // A line starts where the expression's `^` does: at the start, or after \n, \r, U+2028 or U+2029.
        const c = i < 0 ? -1 : guarded.charCodeAt(i);
        if (c === -1 || c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return guarded.replace(CI_COMMAND_AT_LINE_START, "$1\\::");
    }
    return guarded;
}

/**
 * `text` with the `[` of every `##[` and `##vso[` in `medium`'s other spelling; `text` itself when it has no `##`.
 * {@link guardCiLog} without its line-start pass: for lines that start with the report's own words.
 */
export function guardInlineCommands(text: string, medium: CiLogMedium = "text"): string {
    return breakInlineCommands(text, OPEN_BRACKET[medium]);
}

/** White space within a line: what `\s` matches but the line terminators (`^` starts a line after those). */
const LINE_SPACE = /[^\S\n\r\u2028\u2029]/;

function isLineSpace(c: number): boolean {
    return c === 0x20 || c === 0x09 || (c > 0x7f && LINE_SPACE.test(String.fromCharCode(c))) || c === 0x0b || c === 0x0c;
}

const CI_COMMAND_AT_LINE_START = /^([^\S\n\r\u2028\u2029]*)::/gm;

/**
 * One line of text that holds values (a file name, a config key, a service message): every control character
 * shown, its own line breaks too, so that a value cannot start a line of its own; then the line's newline.
 */
export function textLine(text: string): string {
    return `${escapeText(text)}\n`;
}

/** Plain text output as a whole: nothing but `\n`/`\t` as controls in values, and no line a CI runner obeys. */
export function escapeTextOutput(text: string): string {
    return guardCiLog(escapeText(text, { keepNewlines: true }));
}

/**
 * Whether every code unit of `s` is below U+0080. The UTF-8 length equals the length in code units exactly when it
 * is (anything else, a lone surrogate too, takes two or more bytes); V8 counts that natively, about four times as
 * fast as a regular expression's scan of the same text (a 100,000-role JSON report is 300 MB of it).
 */
export function isAscii(s: string): boolean {
    return Buffer.byteLength(s, "utf8") === s.length;
}

/** Whether `s` holds DEL or any character outside ASCII. */
export function hasDelOrNonAscii(s: string): boolean {
    return !isAscii(s) || s.includes("\u007f");
}

/**
 * JSON output: JSON.stringify already escapes C0; this also writes C1, DEL, U+2028/9 and the bidi controls as
 * `\uXXXX`, so a JSON document printed to a terminal or a log holds no raw control character. The parsed value is
 * unchanged.
 */
export function escapeJsonOutput(json: string): string {
    // Every control it rewrites is DEL or outside ASCII: one native count answers for most text.
    return guardInlineCommands(hasDelOrNonAscii(json) ? escapeJsonControls(json) : json, "json");
}

/** What {@link escapeJsonOutput} rewrites, rewritten, without first asking whether there is any. */
function escapeJsonControls(json: string): string {
    return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const UTF8 = new TextEncoder();

/**
 * {@link escapeJsonOutput} of `json` as UTF-8 bytes, what a JSON report written in bytes holds. The encoding, which
 * a write needs anyway, also answers whether the text is ASCII (its length in bytes is its length in code units
 * exactly then): most text is encoded once and searched once more, for DEL, where escaping and then writing a
 * string look at it three times (a 100,000-role report is 300 MB of it). The bytes have an ArrayBuffer of their own,
 * so a worker thread can transfer them.
 */
export function encodeJsonOutput(json: string): Uint8Array<ArrayBuffer> {
    const bytes = UTF8.encode(json);
    const ascii = bytes.length === json.length && !json.includes("\u007f");
    if (ascii && !json.includes("##")) return bytes;
    // Not ASCII, DEL or `##`: the encoding already answered part of what escapeJsonOutput would ask again.
    return UTF8.encode(guardInlineCommands(ascii ? json : escapeJsonControls(json), "json"));
}

const MARKDOWN_SPECIAL = /[&<>\\`*_[\]~]/g;
const MARKDOWN_REPLACEMENT: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", ...Object.fromEntries([..."\\`*_[]~"].map((c) => [c, `\\${c}`])) };
/** What HTML and XML write as entities. */
const MARKUP_SPECIAL = /[&<>"']/g;
const HTML_REPLACEMENT: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const XML_REPLACEMENT: Readonly<Record<string, string>> = { ...HTML_REPLACEMENT, "'": "&apos;" };
/** A lone surrogate, U+FFFE or U+FFFF: none is a character XML allows. */
const NOT_XML = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g;
const MAY_BE_NOT_XML = /[\ud800-\udfff\ufffe\uffff]/;

/**
 * Markdown (GitHub): controls shown as escapes (a bare CR, U+2028, U+2029 or NEL would end a line in CommonMark
 * and let a value start its own table row, image or heading), `& < >` as entities, and Markdown punctuation
 * backslash-escaped.
 */
export function escapeMarkdown(value: string): string {
    // `[` is backslash-escaped with the rest of the punctuation: no `##[` is left for a CI runner.
    return replaceEach(showControls(value), MARKDOWN_SPECIAL, MARKDOWN_REPLACEMENT);
}

/**
 * HTML text or attribute value: controls shown (newlines and tabs kept with `keepNewlines`), then entities (the `[`
 * of `##[` and `##vso[` as `&#91;`).
 */
export function escapeHtml(value: string, options: { keepNewlines?: boolean } = {}): string {
    return guardInlineCommands(replaceEach(showControls(value, options), MARKUP_SPECIAL, HTML_REPLACEMENT), "html");
}

/**
 * Each character of `value` that `special` (a global class) matches, replaced by its entry in `replacement`, in one
 * pass; `value` itself when it has none (nearly every name, URN and message). The entities' own characters are never
 * read again, so this is the same as one replacement after another with `&` first.
 */
function replaceEach(value: string, special: RegExp, replacement: Readonly<Record<string, string>>): string {
    special.lastIndex = 0;
    if (!special.test(value)) return value;
    return value.replace(special, (c) => replacement[c]!);
}

/**
 * XML (JUnit) attribute or text: controls shown as escapes (most C0 are not even allowed in XML 1.0, and CI
 * systems print these values to their logs), unpaired surrogates replaced, then entities. With `keepNewlines`,
 * `\n` and `\t` stay as they are (element text).
 */
export function escapeXml(value: string, options: { keepNewlines?: boolean } = {}): string {
    const shown = showControls(value, options);
    const allowed = MAY_BE_NOT_XML.test(shown) ? shown.replace(NOT_XML, "\ufffd") : shown;
    return guardInlineCommands(replaceEach(allowed, MARKUP_SPECIAL, XML_REPLACEMENT), "xml");
}

/**
 * XML element text of lines: each line escaped whole (a value's own line break shown as `\n`, so that no value starts
 * a line of what a CI system prints), then joined by the report's own line breaks.
 */
export function xmlLines(lines: readonly string[]): string {
    return lines.map((l) => escapeXml(l)).join("\n");
}
