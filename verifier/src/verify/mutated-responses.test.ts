/**
 * Pulumi Cloud's answers, mutated: `verify` through the real @pulumi/esc-sdk and AWS SDK clients against the
 * stand-ins, with one response of each case replaced on the wire by a seeded mutation of what the stand-in would have
 * sent: the open, the read of the opened environment (credentials and all), a page of the environment list, or an
 * environment's definition, or STS's answer to GetCallerIdentity. Mutations are those of the pack's `testing/mutate.ts` (values replaced, dropped,
 * repeated, retyped or renamed, and the marker in one string value), bodies cut short, bodies that are not JSON at
 * all (empty, an HTML error page, bytes that are not UTF-8, nesting 100,000 deep, a byte-order mark), and a status
 * other than the one the body was sent with; STS's XML has its elements' text replaced by the marker (escaped, as
 * character references, or raw), elements dropped or repeated, an entity-expansion bomb, or an error of its own. A server that breaks the published format is not an input the verifier
 * chose, but it is one it must survive: whatever comes back, the run is safe as `testing/safe-output.ts` says, with
 * exit 0, 1 or 3 (a response is never a usage error, and never the internal error 70), and no output holds any
 * secret the stand-ins issued or the Pulumi token.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../cli.js";
import { generator, MARK, mutate, mutationSeed, type Json } from "oidc-guard-policypack/testing/mutate";
import { mutateXmlReply, type RawReply } from "../testing/rewrite.js";
import type { EscRoute } from "../testing/openapi.js";
import { assertSafe } from "../testing/safe-output.js";
import { captureIO, ORG, ROLE_DEPLOY, startWorld, type World } from "../testing/world.js";

const SEED = mutationSeed() + 3;
const FORMATS = ["text", "json", "sarif", "junit", "markdown", "html"] as const;

/** Bodies no ESC server sends, whatever the route. */
const MALFORMED: readonly ((body: unknown) => RawReply)[] = [
    () => ({ body: "" }),
    () => ({ body: "<html><body><h1>502 Bad Gateway</h1><b>&amp;</b></body></html>", contentType: "text/html" }),
    () => ({ body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) }),
    () => ({ body: `${"[".repeat(100_000)}${"]".repeat(100_000)}` }),
    () => ({ body: `{"id":${"[".repeat(50_000)}` }),
    (body) => ({ body: `\ufeff${JSON.stringify(body)}` }),
    () => ({ body: "null" }),
    () => ({ body: "[]" }),
    () => ({ body: JSON.stringify(MARK) }),
    (body) => ({ body: JSON.stringify(body), contentType: "text/plain; charset=utf-16" }),
];

/** What a case's rewrite sends: usually a mutation of the stand-in's own body, sometimes a malformed one. */
function reply(body: unknown, status: number, random: () => number): RawReply {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    let out: RawReply;
    if (random() < 0.75) {
        const text = JSON.stringify(mutate(structuredClone(body) as Json, random), null, random() < 0.5 ? 2 : undefined);
        out = { body: random() < 0.125 ? text.slice(0, Math.floor(random() * text.length)) : text };
    } else out = pick(MALFORMED)(body);
    // A status the body was not sent with: a 400's diagnostics as a success, a session id as a 400, a redirect with
    // nowhere to go. (A 5xx is retried after a second's backoff, so only one case in twenty has one.)
    const r = random();
    if (r < 0.05) out.status = pick([500, 503]);
    else if (r < 0.2) out.status = pick([200, 400, 302, 404, 409]);
    return { ...out, status: out.status ?? status };
}

interface Case {
    /** `sts` rewrites STS's next answer (the GetCallerIdentity of the case). */
    route: EscRoute | "sts";
    /** The environment whose response is rewritten (every one when undefined). */
    env?: string;
    argv: string[];
}

/** Six of every eight cases rewrite one of ESC's responses, two STS's. */
const CASES: readonly Case[] = [
    { route: "open", env: "platform/prod", argv: [`${ORG}/platform/prod`] },
    { route: "read", env: "platform/prod", argv: [`${ORG}/platform/prod`, "--role-arn", ROLE_DEPLOY] },
    { route: "open", env: "platform/denied", argv: [`${ORG}/platform/prod`, "--expect-denied", `${ORG}/platform/denied`] },
    { route: "read", env: "platform/static", argv: [`${ORG}/platform/static`] },
    { route: "list", argv: ["--all", ORG] },
    { route: "definition", env: "platform/dev", argv: ["--all", ORG] },
    { route: "sts", argv: [`${ORG}/platform/prod`] },
    { route: "sts", argv: [`${ORG}/platform/static`] },
];

describe("verify: ESC responses mutated on the wire", () => {
    let world: World;
    before(async () => {
        world = await startWorld({ validate: false });
    });
    after(async () => {
        await world.close();
    });

    it("the open, the read, the list and the definition, mutated or malformed, through verify in every format", async () => {
        const random = generator(SEED);
        const codes = new Map<number, number>();
        const outputs: string[] = [];
        const n = 96;
        for (let i = 0; i < n; i++) {
            const c = CASES[i % CASES.length]!;
            const format = FORMATS[Math.floor(i / CASES.length) % FORMATS.length]!;
            let used = false;
            if (c.route === "sts") {
                world.sts.addRewrite((xml, status) => {
                    used = true;
                    return mutateXmlReply(xml, status, ["Arn", "Account", "UserId", "RequestId", "Code", "Message"], random);
                });
            } else {
                const route = c.route;
                world.esc.addFault({
                    route,
                    env: c.env,
                    rewrite: (body, status) => {
                        used = true;
                        return reply(body, status, random);
                    },
                });
            }
            const io = captureIO(world.env);
            const code = await run(["verify", ...c.argv, "--format", format, "--timeout", "30"], io);
            const r = { code, out: io.out.join(""), err: io.err.join("") };
            assertSafe(`seed ${SEED}, case ${i} (the ${c.route} of ${c.env ?? "every environment"} rewritten, verify ${c.argv.join(" ")} --format ${format})`, format, r, [0, 1, 3]);
            assert.ok(used, `case ${i}: the ${c.route} response was never asked for`);
            assert.doesNotMatch(r.out + r.err, /Deserialization error|\$response|@aws-sdk/, `case ${i}: the SDK's advice to developers in the output`);
            codes.set(code, (codes.get(code) ?? 0) + 1);
            outputs.push(r.out, r.err);
        }
        // Some mutations leave what verify reads intact (0), some break what it checks (1), some what it needs (3).
        assert.ok((codes.get(0) ?? 0) > 0 && (codes.get(1) ?? 0) > 0 && (codes.get(3) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
        const issued = world.sts.allIssued();
        assert.ok(issued.length > n / 2, `only ${issued.length} credentials issued`);
        const secrets = [world.token, ...issued.flatMap((x) => [x.secretAccessKey, x.sessionToken ?? ""])].filter((s) => s.length > 0);
        for (const [k, text] of outputs.entries()) {
            for (const s of secrets) assert.ok(!text.includes(s), `case ${Math.floor(k / 2)}: a secret in ${k % 2 === 0 ? "stdout" : "stderr"}`);
        }
    });
    it("--stack-outputs: `pulumi stack output --json` files, mutated, in every format", async () => {
        // The outputs name the role and the environments: a mutated file is refused naming the output (exit 2), or
        // what it names is verified; never a crash, never its values raw.
        const random = generator(SEED + 1);
        const dir = mkdtempSync(join(tmpdir(), "oidc-guard-outputs-"));
        const codes = new Map<number, number>();
        try {
            // A stack's outputs are all of its outputs: most of them are not the two that verify reads.
            const outputs = {
                roleArn: ROLE_DEPLOY,
                escEnvironments: [`${ORG}/platform/prod`, `${ORG}/platform/dev`],
                providerArn: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc",
                providerUrl: "https://api.pulumi.com/oidc",
                audiences: [`aws:${ORG}`],
                subjects: [`pulumi:environments:org:${ORG}:env:platform/prod`, `pulumi:environments:org:${ORG}:env:platform/dev`],
                region: "us-east-1",
                tags: { team: "platform", "cost-center": "1234", owner: "security@example.com" },
                maxSessionDuration: 3600,
            };
            for (let i = 0; i < 36; i++) {
                const text = JSON.stringify(mutate(structuredClone(outputs), random), null, 2);
                writeFileSync(join(dir, "outputs.json"), random() < 0.125 ? text.slice(0, Math.floor(random() * text.length)) : text);
                const format = FORMATS[i % FORMATS.length]!;
                const io = captureIO(world.env, { cwd: dir });
                const code = await run(["verify", "--stack-outputs", "outputs.json", "--format", format, "--timeout", "30"], io);
                const r = { code, out: io.out.join(""), err: io.err.join("") };
                assertSafe(`seed ${SEED + 1}, case ${i} (outputs.json mutated, --format ${format}): ${text.slice(0, 300)}`, format, r, [0, 1, 2, 3]);
                codes.set(code, (codes.get(code) ?? 0) + 1);
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        assert.ok((codes.get(0) ?? 0) + (codes.get(1) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
    });
});
