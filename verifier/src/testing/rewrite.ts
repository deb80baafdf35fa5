/**
 * Answers that break a service's published format, for the fault tests of the stand-ins (ESC, STS) and of the proxy
 * in front of moto (IAM, STS): what a rewrite sends instead of the answer the server would have given, and seeded
 * mutations of a Query API (XML) answer.
 */
import { MARK } from "oidc-guard-policypack/testing/mutate";

/** A raw response sent in place of the server's own. */
export interface RawReply {
    /** Default: the status of the response it replaces. */
    status?: number;
    /** Default: the content type of the response it replaces. */
    contentType?: string;
    body: string | Buffer;
}

/** The marker with XML's markup characters escaped: what a server that escapes correctly would send. */
const MARK_ESCAPED = MARK.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** The marker as character references: a parser that expands them yields its control characters. */
const MARK_REFERENCES = [...MARK].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join("");
/** An entity-expansion bomb's declarations: `&aaaaaaaaa;` would expand to 10^8 × 100 characters. */
const BOMB = `<!DOCTYPE r [<!ENTITY a "${"x".repeat(100)}">${[1, 2, 3, 4, 5, 6, 7, 8]
    .map((i) => `<!ENTITY ${"a".repeat(i + 1)} "${`&${"a".repeat(i)};`.repeat(10)}">`)
    .join("")}]>`;

/**
 * One seeded mutation of an XML answer: the text of one of `elements` replaced by the marker (escaped, as character
 * references, or raw) or by what `value` makes of it (for values with a format of their own, such as a URL-encoded
 * policy), that element dropped or repeated, the answer cut short, an entity-expansion bomb, an error response of
 * the server's own with the marker in it, elements nested 100,000 deep, an empty body, or an HTML error page.
 */
export function mutateXmlReply(
    xml: string,
    status: number,
    elements: readonly string[],
    random: () => number,
    value?: (element: string, text: string) => string | undefined,
): RawReply {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const element = pick(elements);
    const text = new RegExp(`<${element}>([^<]*)</${element}>`);
    const edits: ((x: string) => RawReply)[] = [
        (x) => ({
            body: x.replace(text, (_m, v: string) => {
                const own = value?.(element, v);
                const replaced = own ?? pick([MARK_ESCAPED, `${v}${MARK_ESCAPED}`, MARK_REFERENCES, `${v}${MARK_REFERENCES}`, MARK]);
                return `<${element}>${replaced}</${element}>`;
            }),
        }),
        (x) => ({ body: x.replace(text, "") }),
        (x) => ({ body: x.replace(text, (m) => m + m) }),
        (x) => ({ body: x.slice(0, Math.floor(random() * x.length)) }),
        (x) => ({ body: `<?xml version="1.0"?>${BOMB}${x.replace(text, `<${element}>&${"a".repeat(9)};</${element}>`)}` }),
        () => ({
            status: pick([400, 403]),
            body: `<ErrorResponse><Error><Type>Sender</Type><Code>${pick(["AccessDenied", MARK_ESCAPED, "Throttling"])}</Code><Message>${MARK_ESCAPED}</Message></Error></ErrorResponse>`,
        }),
        () => ({ body: "<a>".repeat(100_000) }),
        () => ({ body: "" }),
        () => ({ body: "<html><body>502 Bad Gateway</body></html>", contentType: "text/html" }),
    ];
    return { status, ...pick(edits)(xml) };
}
