/**
 * Reading a live AWS account for `oidc-guard scan aws`: every IAM role (with its trust policy) and every OIDC
 * provider, read-only. The calls are `iam:ListRoles` (paginated; returns each trust policy URL-encoded),
 * `iam:ListOpenIDConnectProviders`, `iam:GetOpenIDConnectProvider`, `sts:GetCallerIdentity` and, across accounts,
 * `sts:AssumeRole`. Credentials come from the SDK's standard chain (environment, `--profile`, SSO, web identity,
 * container and instance metadata) and never from the command line. Endpoints: the SDK honours
 * `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_STS` (and `AWS_ENDPOINT_URL`) itself.
 */
import {
    GetOpenIDConnectProviderCommand,
    IAMClient,
    type IAMClientConfig,
    ListOpenIDConnectProvidersCommand,
    paginateListRoles,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type STSClientConfig } from "@aws-sdk/client-sts";
import { awsSdkErrorText, quietBoundedClient } from "../aws-sdk.js";
import { oneLine, redactText } from "../redact.js";
import { credentialShapeProblem } from "../verify/credentials.js";

/** How the SDK clients are set up. */
export interface AwsConnection {
    /** Named profile of the shared config files (`--profile`); absent: the default chain. */
    profile?: string;
    /** Region for STS and request signing (IAM is global). */
    region: string;
    /** Bound on each HTTP attempt (connect and response), in milliseconds. */
    requestTimeoutMs: number;
    /** Attempts per request under the SDK's standard retry strategy (throttling and 5xx are retried with backoff). */
    maxAttempts: number;
}

/** Credentials an assumed role gave, held only in memory. */
interface SessionCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
}

/** A role as `ListRoles` returns it. */
export interface ScannedRole {
    arn: string;
    name: string;
    /** The trust policy as returned (URL-encoded by AWS; decoded by the check). */
    trustPolicy: string | undefined;
}

/** An OIDC provider as `GetOpenIDConnectProvider` returns it (URL without scheme, as IAM stores it). */
export interface ScannedProvider {
    arn: string;
    url: string | undefined;
    clientIds: string[];
}

/** Everything read from one account. */
export interface AccountScan {
    account: string;
    /** The identity the reads ran as (`sts:GetCallerIdentity`). */
    callerArn: string;
    roles: ScannedRole[];
    providers: ScannedProvider[];
    /** Requests sent (pages and provider reads), for the progress line and the benchmark. */
    requests: number;
}

/** Why an account could not be read: the AWS error name and its message, one line, credential-shaped text redacted. */
export class AccountReadError extends Error {
    constructor(
        message: string,
        readonly step: string,
    ) {
        super(message);
        this.name = "AccountReadError";
    }
}

/**
 * The most `ListRoles` pages read per account: IAM allows at most 5,000 roles per account (100 per page by default),
 * so an endpoint that keeps answering "truncated" past this is not IAM; the account is reported unreadable.
 */
export const MAX_ROLE_PAGES = 200;

/** Session name used for `sts:AssumeRole` (CloudTrail shows it). */
export const SESSION_NAME = "oidc-guard-scan";

/** `arn:<partition>:iam::<12 digits>:role/<path/>name` (what `--assume-role` accepts). */
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

function clientConfig(connection: AwsConnection, credentials?: SessionCredentials): IAMClientConfig & STSClientConfig {
    return {
        region: connection.region,
        maxAttempts: connection.maxAttempts,
        retryMode: "standard",
        ...quietBoundedClient(connection.requestTimeoutMs),
        ...(credentials
            ? { credentials }
            : connection.profile !== undefined
              ? { profile: connection.profile }
              : {}),
    };
}

/** One line saying what went wrong, never a stack, never credentials. */
export function describeAwsError(e: unknown): string {
    const err = (typeof e === "object" && e !== null ? e : {}) as { name?: unknown; message?: unknown; code?: unknown };
    const sdk = awsSdkErrorText(e);
    if (sdk.unreadable) {
        // The server answered, but not with the API's XML: its parser's reason, never the SDK's advice to developers.
        return `the response could not be read${sdk.status !== undefined ? ` (HTTP ${sdk.status})` : ""}: ${oneLine(redactText(sdk.message), 200)}`;
    }
    const name = typeof err.name === "string" && err.name !== "Error" ? oneLine(err.name, 100) : typeof err.code === "string" ? err.code : "";
    let message = sdk.message;
    // A SignatureDoesNotMatch message goes on with the canonical request (signed headers): keep the first part.
    message = message.split(/\r?\n\s*\r?\n|The Canonical String|The String-to-Sign/)[0] ?? "";
    const text = oneLine(redactText(message), 240);
    if (name === "" || text.startsWith(name)) return text || "unknown error";
    return text ? `${name}: ${text}` : name;
}

/**
 * Reads one account. Without `roleArn` the reads run as the caller (standard credential chain); with it, the caller
 * first assumes that role. Throws {@link AccountReadError} when the account cannot be read (the message names the
 * step: assume role, caller identity, list roles, list/get providers).
 */
export async function scanAccount(
    connection: AwsConnection,
    roleArn: string | undefined,
    onProgress: (requests: number) => void = () => {},
): Promise<AccountScan> {
    let credentials: SessionCredentials | undefined;
    let requests = 0;
    const step = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
        try {
            const out = await call();
            requests++;
            onProgress(requests);
            return out;
        } catch (e) {
            throw new AccountReadError(`${what}: ${describeAwsError(e)}`, what);
        }
    };

    if (roleArn !== undefined) {
        const sts = new STSClient(clientConfig(connection));
        try {
            const out = await step(`sts:AssumeRole ${roleArn}`, () =>
                sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: SESSION_NAME })),
            );
            const c = out.Credentials;
            if (!c?.AccessKeyId || !c.SecretAccessKey) {
                throw new AccountReadError(`sts:AssumeRole ${roleArn}: the response holds no credentials`, "sts:AssumeRole");
            }
            // Refused before they sign anything: a credential with a control character would make a broken header.
            const shape =
                credentialShapeProblem("accessKeyId", c.AccessKeyId) ??
                credentialShapeProblem("secretAccessKey", c.SecretAccessKey) ??
                (c.SessionToken !== undefined ? credentialShapeProblem("sessionToken", c.SessionToken) : undefined);
            if (shape !== undefined) {
                throw new AccountReadError(`sts:AssumeRole ${roleArn}: the response's credentials are ${shape}`, "sts:AssumeRole");
            }
            credentials = {
                accessKeyId: c.AccessKeyId,
                secretAccessKey: c.SecretAccessKey,
                ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
                ...(c.Expiration ? { expiration: c.Expiration } : {}),
            };
        } finally {
            sts.destroy();
        }
    }

    const sts = new STSClient(clientConfig(connection, credentials));
    const iam = new IAMClient(clientConfig(connection, credentials));
    try {
        const identity = await step("sts:GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
        const account = identity.Account ?? "";
        if (!/^\d{12}$/.test(account)) {
            throw new AccountReadError("sts:GetCallerIdentity: the response names no account", "sts:GetCallerIdentity");
        }
        // Credentials from AssumeRole belong to the role's account: an answer that says otherwise is not AWS's, and
        // the account's results would be filed under another account.
        const roleAccount = roleArn?.split(":")[4];
        if (roleArn !== undefined && account !== roleAccount) {
            throw new AccountReadError(
                `sts:GetCallerIdentity: the credentials from sts:AssumeRole ${roleArn} belong to account ${account}, not ${roleAccount ?? "?"}`,
                "sts:GetCallerIdentity",
            );
        }

        const roles: ScannedRole[] = [];
        try {
            // ListRoles pages hold 100 roles by default; the paginator follows `Marker` until `IsTruncated` is false.
            let pages = 0;
            for await (const page of paginateListRoles({ client: iam }, {})) {
                requests++;
                onProgress(requests);
                if (++pages > MAX_ROLE_PAGES) {
                    throw new AccountReadError(
                        `iam:ListRoles: more than ${MAX_ROLE_PAGES} pages (IAM holds at most 5,000 roles); stopped`,
                        "iam:ListRoles",
                    );
                }
                for (const r of page.Roles ?? []) {
                    const arn = r.Arn ?? "";
                    roles.push({ arn, name: r.RoleName ?? arn.slice(arn.lastIndexOf("/") + 1), trustPolicy: r.AssumeRolePolicyDocument });
                }
            }
        } catch (e) {
            if (e instanceof AccountReadError) throw e;
            throw new AccountReadError(`iam:ListRoles: ${describeAwsError(e)}`, "iam:ListRoles");
        }

        const list = await step("iam:ListOpenIDConnectProviders", () => iam.send(new ListOpenIDConnectProvidersCommand({})));
        const providers: ScannedProvider[] = [];
        for (const entry of list.OpenIDConnectProviderList ?? []) {
            const arn = entry.Arn;
            if (!arn) continue;
            const p = await step(`iam:GetOpenIDConnectProvider ${arn}`, () =>
                iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
            );
            providers.push({ arn, url: p.Url, clientIds: p.ClientIDList ?? [] });
        }
        return { account, callerArn: identity.Arn ?? "", roles, providers, requests };
    } finally {
        sts.destroy();
        iam.destroy();
    }
}

/**
 * Runs `work` over `items` with at most `limit` in flight, keeping the input order in the result. Every item is
 * run: a failure is the item's own result, not the batch's.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]!, i);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}
