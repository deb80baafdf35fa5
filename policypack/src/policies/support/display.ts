/**
 * Text for Pulumi's display: what every message the pack hands the SDK (violations, the "can't run policy during
 * preview" reason, a not-applicable reason) goes through.
 *
 * The Pulumi CLI prints a policy violation's message through its colorizer, which reads `<{%…%}>` as a colour
 * directive and panics on one it does not know: with `--color always` (a terminal's default) a trust policy whose
 * text holds `<{%x%}>` ended `pulumi preview` with a Go stack trace and exit 2, the violation unseen; without colour
 * the directive was silently dropped from the message. Every other character is printed raw. So the `%` of `<{%` and
 * `%}>` is shown as `\u0025`, the `[` of a CI runner's in-line command (`##[`, `##vso[`) as `\u005b`, and every
 * control character (`CONTROL_CHARACTER`: C0, DEL, C1, U+2028/9, bidi controls) as `\xNN` or `\uXXXX`, with `\n`,
 * `\r` and `\t` by name. Values in messages are quoted as JSON strings, which read these escapes the same way.
 */
import { breakInlineCommands, CONTROL_CHARACTER, showControl } from "../../analysis/index.js";

const CONTROL = new RegExp(CONTROL_CHARACTER.source, "g");
const COLOR_DELIMITER = /<\{%|%\}>/g;

/**
 * `text` (one line of a message) as Pulumi's display shows it literally: colour delimiters broken and control
 * characters shown as escapes, a line break too. A message of several lines is shown line by line, then joined.
 */
export function forPulumiDisplay(text: string): string {
    const shown = text.replace(CONTROL, showControl).replace(COLOR_DELIMITER, (d) => (d === "<{%" ? "<{\\u0025" : "\\u0025}>"));
    // The CLI prints the message into the CI job's log, where GitHub Actions reads `##[command]` and Azure Pipelines
    // `##vso[command]` wherever they stand in a line: their `[` is shown as `\u005b`, as the rest is.
    return breakInlineCommands(shown, "\\u005b");
}

