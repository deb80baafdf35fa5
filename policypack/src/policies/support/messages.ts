/** How findings of the analysis become violation messages in `pulumi preview`/`up` output. */
import type { Finding } from "../../analysis/index.js";
import { forPulumiDisplay } from "./display.js";

/**
 * One violation message: where (the property path), what is wrong, a token that gets in (unless the analysis
 * already wrote it into the message), and the fix. The SDK prints the policy description on the line above. Each
 * line is shown for Pulumi's display ({@link forPulumiDisplay}) before the lines are joined: a value from the trust
 * policy can neither start a line nor colour (or crash) the CLI's output.
 */
export function formatFinding(finding: Finding, property: string): string {
    const where = [property, finding.path].filter((s) => s !== "").join(".") || "(document)";
    // A document-valid finding's message starts with its path already: said once, after the property.
    const message = finding.path !== "" && finding.message.startsWith(`${finding.path}: `) ? finding.message.slice(finding.path.length + 2) : finding.message;
    const lines = [`${where}: ${message}`];
    const token = finding.counterexample;
    if (token && !finding.message.includes(token.sub)) {
        lines.push(`A token that gets in: issuer ${token.issuer}, aud "${token.aud}", sub "${token.sub}".`);
    }
    lines.push(`Fix: ${finding.remediation}`);
    lines.push(`(${finding.ruleId}, severity ${finding.severity})`);
    return lines.map((line) => forPulumiDisplay(line)).join("\n");
}
