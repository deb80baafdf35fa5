import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readStackOutputs } from "./stack-outputs.js";

const dir = mkdtempSync(join(tmpdir(), "stack-outputs-"));
const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return name;
};
const defaults = { roleArn: "roleArn", roleArnExplicit: false, environment: "escEnvironments", environmentExplicit: false };

describe("--stack-outputs", () => {
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the role and the environments under the default keys", () => {
        const f = write("a.json", JSON.stringify({ roleArn: "arn:aws:iam::1:role/r", escEnvironments: ["acme/p/e", "acme/p/f"] }));
        assert.deepEqual(readStackOutputs(f, dir, defaults), { roleArn: "arn:aws:iam::1:role/r", environments: ["acme/p/e", "acme/p/f"] });
    });

    it("reads named keys; a single environment may be a string", () => {
        const f = write("b.json", JSON.stringify({ role: "arn:aws:iam::1:role/r", env: "acme/p/e" }));
        assert.deepEqual(readStackOutputs(f, dir, { roleArn: "role", roleArnExplicit: true, environment: "env", environmentExplicit: true }), {
            roleArn: "arn:aws:iam::1:role/r",
            environments: ["acme/p/e"],
        });
    });

    it("ignores a missing default key, but not a missing named one", () => {
        const f = write("c.json", JSON.stringify({ other: 1 }));
        assert.deepEqual(readStackOutputs(f, dir, defaults), {});
        assert.throws(() => readStackOutputs(f, dir, { ...defaults, roleArnExplicit: true }), /no output 'roleArn' \(--role-arn-output\)/);
    });

    it("explains unreadable files, non-JSON, secrets and wrong types", () => {
        assert.throws(() => readStackOutputs("nope.json", dir, defaults), /cannot read the file \(it does not exist\)/);
        assert.throws(() => readStackOutputs(write("d.json", "not json"), dir, defaults), /not JSON/);
        assert.throws(() => readStackOutputs(write("e.json", "[]"), dir, defaults), /expected a JSON object/);
        assert.throws(() => readStackOutputs(write("f.json", JSON.stringify({ roleArn: "[secret]" })), dir, defaults), /is a secret/);
        assert.throws(() => readStackOutputs(write("g.json", JSON.stringify({ escEnvironments: [1] })), dir, defaults), /must be <org>\/<project>\/<env> or a non-empty list/);
    });
});
