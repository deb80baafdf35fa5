/**
 * Server-side AWS Signature Version 4 verification, recomputed with node:crypto from the secret the STS stand-in
 * issued (AWS General Reference, "Create a signed AWS API request"). Deliberately independent of the AWS SDK's
 * signer, so a signing mistake in the client cannot be mirrored by the check.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface SignedRequest {
    method: string;
    /** The request target as received (`req.url`): path and query, percent-encoded as sent. */
    url: string;
    /** Header names lower-cased, as node's `req.headers`. */
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

export type SigV4Result =
    | { ok: true; accessKeyId: string; region: string; service: string }
    | {
          ok: false;
          code: "IncompleteSignature" | "SignatureDoesNotMatch" | "InvalidClientTokenId" | "MissingAuthenticationToken";
          message: string;
          accessKeyId?: string;
          /** On a signature mismatch: what AWS appends to its message (and which holds signed header values). */
          canonicalRequest?: string;
          stringToSign?: string;
      };

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent plus !'()*). */
function escapeUri(s: string): string {
    return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical URI: path normalised (empty, `.` and `..` segments), each segment URI-encoded. */
function canonicalPath(rawPath: string): string {
    let decoded: string;
    try {
        decoded = decodeURIComponent(rawPath);
    } catch {
        decoded = rawPath;
    }
    const segs: string[] = [];
    for (const s of decoded.split("/")) {
        if (s === "" || s === ".") continue;
        if (s === "..") segs.pop();
        else segs.push(s);
    }
    const path = `/${segs.join("/")}${segs.length > 0 && decoded.endsWith("/") ? "/" : ""}`;
    return escapeUri(path).replace(/%2F/g, "/");
}

function canonicalQuery(search: string): string {
    const params = new URLSearchParams(search);
    const pairs: [string, string][] = [];
    for (const [k, v] of params) pairs.push([escapeUri(k), escapeUri(v)]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function headerValue(h: string | string[] | undefined): string | undefined {
    if (h === undefined) return undefined;
    return (Array.isArray(h) ? h.join(",") : h).trim().replace(/\s+/g, " ");
}

/**
 * Verifies the SigV4 `Authorization` header of `req`. `secretFor(keyId)` returns the secret issued for a key id, or
 * undefined when the key id is unknown. `now` bounds the accepted `x-amz-date` (±15 minutes, as AWS does).
 */
export function verifySigV4(req: SignedRequest, secretFor: (accessKeyId: string) => string | undefined, now = Date.now()): SigV4Result {
    const auth = headerValue(req.headers.authorization);
    if (!auth) return { ok: false, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token" };
    const m = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return { ok: false, code: "IncompleteSignature", message: "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature" };
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as [string, string, string, string, string, string, string];
    const secret = secretFor(accessKeyId);
    if (secret === undefined) {
        return { ok: false, code: "InvalidClientTokenId", message: "The security token included in the request is invalid.", accessKeyId };
    }
    const amzDate = headerValue(req.headers["x-amz-date"]);
    if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
        return { ok: false, code: "IncompleteSignature", message: "x-amz-date is missing or malformed", accessKeyId };
    }
    if (amzDate.slice(0, 8) !== scopeDate) {
        return { ok: false, code: "SignatureDoesNotMatch", message: "Credential scope date does not match x-amz-date", accessKeyId };
    }
    const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
    if (Math.abs(now - signedAt) > 15 * 60_000) {
        return { ok: false, code: "SignatureDoesNotMatch", message: "Signature expired: the request time is too far from the server time", accessKeyId };
    }
    const signedHeaders = signedHeaderList.split(";");
    if (!signedHeaders.includes("host")) {
        return { ok: false, code: "SignatureDoesNotMatch", message: "host must be a signed header", accessKeyId };
    }
    const sorted = [...signedHeaders].sort();
    if (sorted.join(";") !== signedHeaderList) {
        return { ok: false, code: "SignatureDoesNotMatch", message: "SignedHeaders must be sorted", accessKeyId };
    }
    let canonicalHeaders = "";
    for (const name of signedHeaders) {
        const v = headerValue(req.headers[name]);
        if (v === undefined) return { ok: false, code: "SignatureDoesNotMatch", message: `signed header ${name} is missing`, accessKeyId };
        canonicalHeaders += `${name}:${v}\n`;
    }
    const bodyHash = sha256(req.body);
    const declared = headerValue(req.headers["x-amz-content-sha256"]);
    if (declared !== undefined && declared !== "UNSIGNED-PAYLOAD" && declared !== bodyHash) {
        return { ok: false, code: "SignatureDoesNotMatch", message: "x-amz-content-sha256 does not match the body", accessKeyId };
    }
    const q = req.url.indexOf("?");
    const rawPath = q >= 0 ? req.url.slice(0, q) : req.url;
    const search = q >= 0 ? req.url.slice(q + 1) : "";
    const canonicalRequest = [
        req.method.toUpperCase(),
        canonicalPath(rawPath),
        canonicalQuery(search),
        canonicalHeaders,
        signedHeaderList,
        declared === "UNSIGNED-PAYLOAD" ? "UNSIGNED-PAYLOAD" : bodyHash,
    ].join("\n");
    const scope = `${scopeDate}/${region}/${service}/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
    const kDate = hmac(`AWS4${secret}`, scopeDate);
    const kRegion = hmac(kDate, region);
    const kService = hmac(kRegion, service);
    const kSigning = hmac(kService, "aws4_request");
    const expected = createHmac("sha256", kSigning).update(stringToSign, "utf8").digest();
    const given = Buffer.from(signature, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return {
            ok: false,
            code: "SignatureDoesNotMatch",
            message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            accessKeyId,
            canonicalRequest,
            stringToSign,
        };
    }
    return { ok: true, accessKeyId, region, service };
}

/**
 * Signs a request the same way (for the verifier's own unit tests of this module: a known-answer check against the
 * AWS SDK's signature is done in sts-standin.test.ts). Returns the `Authorization` header value.
 */
export function signSigV4(args: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body: string;
    accessKeyId: string;
    secretAccessKey: string;
    region: string;
    service: string;
    amzDate: string;
}): string {
    const names = Object.keys(args.headers).map((h) => h.toLowerCase()).sort();
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(args.headers)) lower[k.toLowerCase()] = v;
    const canonicalHeaders = names.map((n) => `${n}:${(lower[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const q = args.url.indexOf("?");
    const canonicalRequest = [
        args.method,
        canonicalPath(q >= 0 ? args.url.slice(0, q) : args.url),
        canonicalQuery(q >= 0 ? args.url.slice(q + 1) : ""),
        canonicalHeaders,
        names.join(";"),
        sha256(args.body),
    ].join("\n");
    const date = args.amzDate.slice(0, 8);
    const scope = `${date}/${args.region}/${args.service}/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", args.amzDate, scope, sha256(canonicalRequest)].join("\n");
    const k = hmac(hmac(hmac(hmac(`AWS4${args.secretAccessKey}`, date), args.region), args.service), "aws4_request");
    const sig = createHmac("sha256", k).update(stringToSign, "utf8").digest("hex");
    return `AWS4-HMAC-SHA256 Credential=${args.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${sig}`;
}
