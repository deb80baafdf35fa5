/** `oidc-guard check -`: one document from standard input, bounded in size and time, decoded as strictly as a file. */
import { CliError, EXIT } from "../io.js";
import { InputReadError, STREAM_TIMEOUT_MS, decodeUtf8, formatSeconds } from "../read.js";

/** The largest document read from standard input. */
export const STDIN_MAX_BYTES = 64 * 1024 * 1024;
/**
 * How long `check -` waits for standard input to end (a slow `aws iam get-account-authorization-details` included):
 * as long as a FIFO named on the command line gets.
 */
export const STDIN_TIMEOUT_MS = STREAM_TIMEOUT_MS;

const UTF8_HINT = "convert it to UTF-8 first (e.g. `iconv -f <its encoding> -t UTF-8`): other encodings are not guessed";

/**
 * Reads standard input to its end as UTF-8, strictly (as a file is: no byte is replaced). Throws {@link CliError}
 * (exit 2) when it is a terminal, missing, larger than `maxBytes`, does not end within `timeoutMs`, or is not UTF-8.
 */
export function readStdin(
    stdin: (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined,
    limits: { maxBytes?: number; timeoutMs?: number } = {},
): Promise<string> {
    const maxBytes = limits.maxBytes ?? STDIN_MAX_BYTES;
    const timeoutMs = limits.timeoutMs ?? STDIN_TIMEOUT_MS;
    if (!stdin) return Promise.reject(new CliError("-: standard input is not available", EXIT.usage));
    if (stdin.isTTY) {
        return Promise.reject(
            new CliError(
                "-: standard input is a terminal; pipe a document in, e.g. `aws iam get-role --role-name r | oidc-guard check - --org acme`",
                EXIT.usage,
            ),
        );
    }
    return new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const finish = (error?: CliError): void => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            stdin.removeListener("data", onData);
            stdin.removeListener("end", onEnd);
            stdin.removeListener("error", onError);
            if (error) {
                stdin.pause();
                reject(error);
            } else {
                try {
                    resolve(decodeUtf8(Buffer.concat(chunks, size)));
                } catch (e) {
                    if (e instanceof InputReadError) reject(new CliError(`-: standard input is ${e.message}\nhint: ${UTF8_HINT}`, EXIT.usage));
                    else reject(e instanceof Error ? e : new Error(String(e)));
                }
            }
        };
        const onData = (chunk: Buffer | string): void => {
            const b = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
            size += b.length;
            if (size > maxBytes) {
                finish(new CliError(`-: standard input is larger than ${maxBytes} bytes; write it to a file and check that`, EXIT.usage));
                return;
            }
            chunks.push(b);
        };
        const onEnd = (): void => finish();
        const onError = (e: Error): void => finish(new CliError(`-: cannot read standard input: ${e.message}`, EXIT.usage));
        const timer = setTimeout(
            () => finish(new CliError(`-: standard input did not end within ${formatSeconds(timeoutMs)}`, EXIT.usage)),
            timeoutMs,
        );
        stdin.on("data", onData);
        stdin.on("end", onEnd);
        stdin.on("error", onError);
        stdin.resume();
    });
}
