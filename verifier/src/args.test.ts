import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkFormat, parseCommandArgs, wholeNumberOption } from "./args.js";
import { CliError, EXIT } from "./io.js";

const OPTIONS = {
    org: { type: "string", multiple: true },
    config: { type: "string" },
    format: { type: "string", short: "f" },
    "no-sts": { type: "boolean" },
    help: { type: "boolean", short: "h" },
} as const;

function usage(fn: () => unknown, message: string, command = "check"): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof CliError, String(e));
        assert.equal(e.exitCode, EXIT.usage);
        assert.equal(e.message, `${message}\nhint: run 'oidc-guard ${command} --help' for the options`);
        return true;
    });
}

describe("parseCommandArgs", () => {
    it("returns typed values and positionals", () => {
        const { values, positionals } = parseCommandArgs("check", ["a.json", "--org", "acme", "--org=beta", "-f", "json", "b"], OPTIONS);
        assert.deepEqual(values.org, ["acme", "beta"]);
        assert.equal(values.format, "json");
        assert.deepEqual(positionals, ["a.json", "b"]);
    });

    it("names an unknown option, long or short, the same way for every command", () => {
        usage(() => parseCommandArgs("check", ["--colour"], OPTIONS), "unknown option '--colour'");
        usage(() => parseCommandArgs("verify", ["x", "-z"], OPTIONS), "unknown option '-z'", "verify");
        usage(() => parseCommandArgs("report", ["--frobnicate=1"], OPTIONS), "unknown option '--frobnicate'", "report");
    });

    it("reports a missing value, at the end, before another option, or empty", () => {
        usage(() => parseCommandArgs("check", ["--org"], OPTIONS), "option '--org <value>' needs a value");
        usage(() => parseCommandArgs("check", ["--config", "--org", "acme"], OPTIONS), "option '--config <value>' needs a value");
        usage(() => parseCommandArgs("check", ["-f"], OPTIONS), "option '--format <value>' needs a value");
        usage(() => parseCommandArgs("check", ["--config", ""], OPTIONS), "option '--config <value>' needs a value");
        usage(() => parseCommandArgs("check", ["--org", "acme", "--org", "  "], OPTIONS), "option '--org <value>' needs a value");
    });

    it("refuses a value for a flag that takes none", () => {
        usage(() => parseCommandArgs("verify", ["--no-sts=yes"], OPTIONS), "option '--no-sts' does not take a value", "verify");
    });
});

describe("checkFormat", () => {
    it("accepts a listed format and names the choices otherwise", () => {
        assert.equal(checkFormat("report", "sarif", ["json", "sarif"] as const), "sarif");
        usage(() => checkFormat("verify", "xml", ["text", "json"]), "unknown --format 'xml': expected one of text, json", "verify");
    });
});

describe("wholeNumberOption", () => {
    it("takes a whole number within the bounds (blanks around it let go) and names the flag, bounds and value otherwise", () => {
        assert.equal(wholeNumberOption("check", "threads", "1", 1, 4), 1);
        assert.equal(wholeNumberOption("check", "threads", " 4 ", 1, 4), 4);
        usage(() => wholeNumberOption("check", "threads", "5", 1, 4, " (1: one)"), "--threads must be a whole number from 1 to 4 (1: one), got '5'");
        for (const bad of ["0", "1.5", "-1", "1e2", "0x2", "two", "2 3"]) {
            usage(() => wholeNumberOption("scan aws", "timeout", bad, 1, 300), `--timeout must be a whole number from 1 to 300, got '${bad}'`, "scan aws");
        }
    });
});
