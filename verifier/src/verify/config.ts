/**
 * Where the verifier talks to, from the environment only: `PULUMI_ACCESS_TOKEN` (required, never from argv),
 * `PULUMI_BACKEND_URL` (default https://api.pulumi.com; self-hosted URLs with a port or a path work), and the
 * AWS SDK's own `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` / `AWS_REGION` / `AWS_DEFAULT_REGION`.
 * Nothing here reads ~/.pulumi or ~/.aws.
 */
import { VerifyConfigError } from "./errors.js";

export const DEFAULT_BACKEND_URL = "https://api.pulumi.com";

/** What the ESC client needs. `token` is a secret: it goes into a request header and nowhere else. */
export interface EscConnection {
    /** `<backend>/api/esc`, port and path preserved. */
    basePath: string;
    token: string;
}

/** What the STS client needs besides the credentials. */
export interface StsConnection {
    region: string;
    /** An explicit endpoint (from AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL); undefined means the SDK's default. */
    endpoint?: string;
}

/** Shows a URL without user info, query or fragment (they may hold secrets). */
export function displayUrl(raw: string): string {
    try {
        const u = new URL(raw);
        return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
    } catch {
        return "(unparseable URL)";
    }
}

/**
 * Turns `PULUMI_BACKEND_URL` into the ESC API base path. Accepts http(s) URLs with any port and path prefix;
 * rejects other schemes (file://, s3:// … are DIY state backends, which have no ESC), user info, query and fragment.
 */
export function escBasePath(backendUrl: string): string {
    let u: URL;
    try {
        u = new URL(backendUrl);
    } catch {
        throw new VerifyConfigError(
            "PULUMI_BACKEND_URL is not a valid URL",
            `set it to the Pulumi Cloud API URL, e.g. ${DEFAULT_BACKEND_URL} or https://pulumi.example.com:8443/prefix`,
        );
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") {
        throw new VerifyConfigError(
            `PULUMI_BACKEND_URL uses '${u.protocol}//': ESC environments live in Pulumi Cloud, which is reached over http(s)`,
            `set PULUMI_BACKEND_URL to the Pulumi Cloud API URL (default ${DEFAULT_BACKEND_URL})`,
        );
    }
    if (u.username || u.password) {
        throw new VerifyConfigError(
            "PULUMI_BACKEND_URL contains user info (user:password@): credentials do not belong in the URL",
            "remove them from the URL; the token is read from PULUMI_ACCESS_TOKEN",
        );
    }
    if (u.search || u.hash) {
        throw new VerifyConfigError(
            `PULUMI_BACKEND_URL ${displayUrl(backendUrl)} has a query or fragment`,
            "give the plain API URL",
        );
    }
    const path = u.pathname.replace(/\/+$/, "");
    const withApi = path.endsWith("/api/esc") ? path : `${path}/api/esc`;
    return `${u.protocol}//${u.host}${withApi}`;
}

/** Resolves the ESC connection from an environment. Throws VerifyConfigError (exit 2) when the token is missing. */
export function escConnectionFromEnv(env: NodeJS.ProcessEnv): EscConnection {
    const token = env.PULUMI_ACCESS_TOKEN?.trim();
    if (!token) {
        throw new VerifyConfigError(
            "PULUMI_ACCESS_TOKEN is not set",
            "export a Pulumi access token in PULUMI_ACCESS_TOKEN (in CI, from the secret store); it is never read from arguments or ~/.pulumi",
        );
    }
    if (/\s/.test(token)) {
        throw new VerifyConfigError("PULUMI_ACCESS_TOKEN contains whitespace", "set it to the token alone");
    }
    const backend = env.PULUMI_BACKEND_URL?.trim() || DEFAULT_BACKEND_URL;
    return { basePath: escBasePath(backend), token };
}

/** Resolves the STS region and endpoint from an environment, as the AWS SDK would (region defaults to us-east-1). */
export function stsConnectionFromEnv(env: NodeJS.ProcessEnv): StsConnection {
    const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "us-east-1";
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
        throw new VerifyConfigError(`AWS_REGION '${region}' is not an AWS region name`, "e.g. us-east-1");
    }
    const raw = env.AWS_ENDPOINT_URL_STS?.trim() || env.AWS_ENDPOINT_URL?.trim();
    if (!raw) return { region };
    let u: URL;
    try {
        u = new URL(raw);
    } catch {
        throw new VerifyConfigError("AWS_ENDPOINT_URL_STS is not a valid URL");
    }
    if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password) {
        throw new VerifyConfigError(
            `AWS_ENDPOINT_URL_STS ${displayUrl(raw)} must be an http(s) URL without user info`,
        );
    }
    return { region, endpoint: raw };
}
