import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { notApplicable, readDeep } from "./sdk.js";

class NotApplicable extends Error {
    constructor(readonly reason: string | undefined) {
        super(reason);
    }
}

/** Like the SDK's `args.notApplicable`: throws its exception, constructed where it is thrown. */
const args = {
    notApplicable(reason?: string): never {
        throw new NotApplicable(reason);
    },
};

describe("notApplicable", () => {
    it("throws the SDK's exception with the reason, captured without a stack trace", () => {
        let thrown: unknown;
        try {
            notApplicable(args, "Policy only applies to IAM roles");
        } catch (e) {
            thrown = e;
        }
        assert.ok(thrown instanceof NotApplicable);
        assert.equal(thrown.reason, "Policy only applies to IAM roles");
        // No frame below the message line: nothing was captured.
        assert.equal(thrown.stack, "Error: Policy only applies to IAM roles");
    });

    it("leaves the process's stack trace limit as it found it", () => {
        const before = Error.stackTraceLimit;
        assert.throws(() => notApplicable(args, "x"), NotApplicable);
        assert.equal(Error.stackTraceLimit, before);
        assert.match(new Error("after").stack ?? "", /\n\s+at /);
    });
});

describe("readDeep", () => {
    it("copies every own key as JSON.parse makes it, a `__proto__` key included (never an object's prototype)", () => {
        // aws-native's assumeRolePolicyDocument is an object: its keys are whatever the program wrote.
        const text = '{"Version": "2012-10-17", "__proto__": {"Statement": [{"Effect": "Allow"}]}, "Statement": [{"__proto__": 1, "Effect": "Deny"}]}';
        const read = readDeep({ doc: JSON.parse(text) as unknown }, "doc");
        assert.deepStrictEqual(read.value, JSON.parse(text));
        const value = read.value as Record<string, unknown>;
        assert.equal(Object.getPrototypeOf(value), Object.prototype);
        assert.deepEqual(Object.keys(value), ["Version", "__proto__", "Statement"]);
        assert.deepEqual(read.unknownPaths, []);
    });
});
