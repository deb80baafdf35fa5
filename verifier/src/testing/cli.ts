/**
 * The CLI run in this process, its output captured: what a test that asserts on `oidc-guard <command>`'s exit code,
 * stdout and stderr needs, without spawning it.
 */
import { run } from "../cli.js";
import { textOf, type OutputChunk } from "../chunks.js";
import type { CliIO } from "../io.js";

/** `oidc-guard <argv>` run in `cwd` with `env` (no variable of the test's own process), stdout and stderr as text. */
export async function runCli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: CliIO = {
        stdout: { write: (s: OutputChunk) => (out += textOf(s)), isTTY: false },
        stderr: { write: (s: string) => (err += s), isTTY: false },
        env,
        cwd,
    };
    const code = await run(argv, io);
    return { code, out, err };
}
