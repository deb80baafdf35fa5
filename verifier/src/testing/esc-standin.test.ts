import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { evaluateDefinition } from "./esc-eval.js";
import { validateEscResponse } from "./openapi.js";
import { startWorld, type World } from "./world.js";

describe("ESC stand-in: protocol shapes (raw HTTP, validated against the ESC OpenAPI description)", () => {
    let world: World;
    let base: string;
    const get = (path: string, token?: string, method = "GET"): Promise<Response> =>
        fetch(`${base}${path}`, { method, headers: token === undefined ? {} : { authorization: `token ${token}` } });

    before(async () => {
        world = await startWorld({ pageSize: 4 });
        base = `${world.esc.url}/api/esc/environments`;
    });
    after(async () => world.close());

    it("requires Authorization: token <PAT> (401 in the Error shape otherwise)", async () => {
        for (const auth of [undefined, "wrong"]) {
            const r = await get("/acme", auth);
            assert.equal(r.status, 401);
            const body = (await r.json());
            assert.deepEqual(validateEscResponse("list", 401, body), []);
        }
        const bearer = await fetch(`${base}/acme`, { headers: { authorization: `Bearer ${world.token}` } });
        assert.equal(bearer.status, 401, "the token scheme, not Bearer");
    });

    it("lists with continuationToken/nextToken pagination", async () => {
        const names: string[] = [];
        let next: string | undefined = "";
        for (let i = 0; i < 10 && next !== undefined; i++) {
            const r = await get(`/acme${next ? `?continuationToken=${next}` : ""}`, world.token);
            const body = (await r.json()) as { environments: { name: string }[]; nextToken?: string };
            assert.deepEqual(validateEscResponse("list", 200, body), []);
            names.push(...body.environments.map((e) => e.name));
            next = body.nextToken;
        }
        assert.equal(names.length, 11);
        assert.ok(names.includes("no-aws"));
    });

    it("serves the definition as YAML and 404s unknown environments", async () => {
        const r = await get("/acme/platform/prod", world.token);
        assert.match(r.headers.get("content-type") ?? "", /application\/x-yaml/);
        const doc = parseYaml(await r.text()) as { values: Record<string, unknown> };
        assert.ok(doc.values.aws);
        const missing = await get("/acme/platform/nope", world.token);
        assert.equal(missing.status, 404);
        assert.deepEqual(validateEscResponse("definition", 404, await missing.json()), []);
    });

    it("opens, reads at /open/{id}, and reads a property at /open//{id}?property=", async () => {
        const open = await get("/acme/platform/prod/open?duration=30m", world.token, "POST");
        const { id } = (await open.json()) as { id: string };
        const read = await get(`/acme/platform/prod/open/${id}`, world.token);
        const env = (await read.json()) as { properties: { aws: { value: { login: { value: { sessionToken: { secret: boolean } } } } } } };
        assert.deepEqual(validateEscResponse("read", 200, env), []);
        assert.equal(env.properties.aws.value.login.value.sessionToken.secret, true);
        const prop = await get(`/acme/platform/prod/open//${id}?property=aws.login`, world.token);
        assert.equal(prop.status, 200);
        assert.deepEqual(validateEscResponse("readProperty", 200, await prop.json()), []);
        const other = await get(`/acme/platform/dev/open/${id}`, world.token);
        assert.equal(other.status, 404, "a session belongs to its environment");
        const bad = await get("/acme/platform/prod/open?duration=forever", world.token, "POST");
        assert.equal(bad.status, 400);
    });

    it("fails a refused aws-login with 400 {code, message, diagnostics} pointing at the call", async () => {
        const r = await get("/acme/platform/denied/open", world.token, "POST");
        assert.equal(r.status, 400);
        const body = (await r.json()) as { code: number; diagnostics: { summary: string; range: { environment: string; begin: { line: number; column: number } } }[] };
        assert.deepEqual(validateEscResponse("open", 400, body), []);
        assert.equal(body.code, 400);
        assert.equal(body.diagnostics[0]?.range.environment, "platform/denied");
        assert.deepEqual(body.diagnostics[0]?.range.begin, { line: 4, column: 7, byte: 32 });
        assert.match(body.diagnostics[0]?.summary ?? "", /^WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\tstatus code: 403, request id: [0-9a-f-]{36}$/);
    });

    it("the validator rejects bodies that break the description (so conformance checks can fail)", () => {
        assert.notDeepEqual(validateEscResponse("open", 200, {}), []);
        assert.notDeepEqual(validateEscResponse("read", 200, { properties: { a: { value: 1 } } }), [], "a Value needs its trace");
        assert.notDeepEqual(validateEscResponse("list", 200, { environments: [{ name: "x" }] }), []);
        assert.notDeepEqual(validateEscResponse("open", 429, { message: "slow down" }), [], "an Error needs a code");
        assert.deepEqual(validateEscResponse("read", 200, { properties: { a: { unknown: true, trace: {} } } }), [], "unknowns have no value (wire deviation)");
    });

    it("evaluates interpolations with secret propagation, as ESC does", () => {
        const ev = evaluateDefinition("values:\n  s:\n    fn::secret: hunter2hunter2\n  plain: x\n  mixed: a-${s}-b\n  copy: ${plain}\n", {
            environment: "p/e",
            login: () => ({ ok: false, summary: "no" }),
        });
        assert.deepEqual(ev.diagnostics, []);
        assert.deepEqual([ev.properties.mixed?.value, ev.properties.mixed?.secret], ["a-hunter2hunter2-b", true]);
        assert.deepEqual([ev.properties.copy?.value, ev.properties.copy?.secret], ["x", undefined]);
        const bad = evaluateDefinition("values:\n  x: ${nope.y}\n", { environment: "p/e", login: () => ({ ok: false, summary: "" }) });
        assert.match(bad.diagnostics[0]?.summary ?? "", /unknown property nope/);
    });
});
