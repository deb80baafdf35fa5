/**
 * The stand-in world in a child process, so that a bench measures the verifier's own CPU and not the stand-ins'
 * (they would otherwise share its one JavaScript thread). Parent side: `startWorldProcess(options)`; child side:
 * this file run with `--import tsx`, speaking over the IPC channel. The child exits when the parent disconnects.
 */
import { fork, type ChildProcess } from "node:child_process";
import { startWorld, type WorldOptions } from "./world.js";

type ToChild = { type: "stats" } | { type: "reset" } | { type: "close" };
type ToParent = { type: "ready"; env: NodeJS.ProcessEnv } | { type: "stats"; maxInFlight: number; escRequests: number; stsRequests: number };

export interface WorldProcess {
    env: NodeJS.ProcessEnv;
    /** The most requests in flight across both stand-ins since the last reset, and request counts. */
    stats(): Promise<{ maxInFlight: number; escRequests: number; stsRequests: number }>;
    reset(): void;
    close(): Promise<void>;
}

/** Starts the world in a child process and waits until it listens. */
export function startWorldProcess(options: WorldOptions): Promise<WorldProcess> {
    const child: ChildProcess = fork(__filename, [JSON.stringify(options)], {
        execArgv: ["--conditions=oidc-guard-source", "--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const waiters: ((m: ToParent) => void)[] = [];
    child.on("message", (m: ToParent) => waiters.shift()?.(m));
    const next = (): Promise<ToParent> => new Promise((resolve) => waiters.push(resolve));
    const send = (m: ToChild): void => {
        child.send(m);
    };
    return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`world process exited (${String(code)})`)));
        void next().then((m) => {
            if (m.type !== "ready") return reject(new Error("world process: unexpected message"));
            resolve({
                env: m.env,
                async stats() {
                    const p = next();
                    send({ type: "stats" });
                    const s = await p;
                    if (s.type !== "stats") throw new Error("world process: unexpected message");
                    return { maxInFlight: s.maxInFlight, escRequests: s.escRequests, stsRequests: s.stsRequests };
                },
                reset() {
                    send({ type: "reset" });
                },
                close() {
                    return new Promise<void>((done) => {
                        child.removeAllListeners("exit");
                        child.once("exit", () => done());
                        send({ type: "close" });
                    });
                },
            });
        });
    });
}

if (require.main === module && process.send) {
    void (async () => {
        const options = JSON.parse(process.argv[2] ?? "{}") as WorldOptions;
        const world = await startWorld(options);
        const reply = (m: ToParent): void => {
            process.send?.(m);
        };
        process.on("message", (m: ToChild) => {
            if (m.type === "stats") reply({ type: "stats", maxInFlight: world.inFlight.max, escRequests: world.esc.requests.length, stsRequests: world.sts.requests.length });
            else if (m.type === "reset") world.inFlight.reset();
            else if (m.type === "close") void world.close().then(() => process.exit(0));
        });
        process.on("disconnect", () => void world.close().then(() => process.exit(0)));
        reply({ type: "ready", env: world.env });
    })();
}
