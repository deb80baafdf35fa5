import { CliError, EXIT, type CliIO } from "../io.js";

/** `oidc-guard verify`: not built yet. */
export async function main(_argv: string[], _io: CliIO): Promise<number> {
    await Promise.resolve();
    throw new CliError("'verify' is not implemented yet", EXIT.usage);
}
