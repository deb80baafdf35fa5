/** Running a bench's own timing script in a fresh Node process. */
import { spawnSync } from "node:child_process";

/**
 * Runs `node <script> <args>` with only `PATH` in its environment (as every child the bench times: the machine's other
 * settings, such as `NODE_EXTRA_CA_CERTS`, slow Node's start) and returns what it printed, as JSON. `what` names the
 * script in the error when it fails.
 */
export function scriptResult<T>(script: string, args: readonly string[], what: string): T {
    const child = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    if (child.status !== 0) throw new Error(`${what} failed (${child.status}): ${child.stderr.slice(0, 300)}`);
    return JSON.parse(child.stdout) as T;
}
