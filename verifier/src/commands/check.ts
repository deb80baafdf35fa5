import { CliError, EXIT, type CliIO } from "../io.js";

/** `oidc-guard check`: not built yet. */
export async function main(_argv: string[], _io: CliIO): Promise<number> {
    await Promise.resolve();
    throw new CliError("'check' is not implemented yet", EXIT.usage);
}
