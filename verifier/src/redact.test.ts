import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../../fixtures/esc/credentials.js";
import fc from "fast-check";
import { hasBase64Run, oneLine, Redactor, redactDeep, redactingSink, redactShapes, redactText, shortenKeyId } from "./redact.js";

// Planted values are assembled at run time so that no credential-shaped literal sits in the repository.
const ak = (prefix: string): string => `${prefix}${"Q7XK2M9P4R8T6W3Z"}`;
const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "8HqV2sLw0a";
const sessionToken = "IQoJb3JpZ2luX2VjEJr" + "A1b2C3d4E5f6G7h8I9j0K/L+".repeat(12) + "==";
const pulumiToken = `pul-${"0123456789abcdef".repeat(2)}01234567`;
const jwt = `eyJhbGciOiJSUzI1NiJ9.${"eyJzdWIiOiJwdWx1bWkifQ"}.c2lnbmF0dXJlLXZhbHVl`;

describe("redactText", () => {
    it("shortens AKIA/ASIA access key ids to their prefix and length", () => {
        for (const prefix of ["AKIA", "ASIA"]) {
            const out = redactText(`key ${ak(prefix)} used`);
            assert.equal(out, `key ${prefix}…[redacted, 20 chars] used`);
        }
    });

    it("removes secret keys, session tokens, Pulumi tokens and JWTs", () => {
        const text = `secret=${secretKey} token=${sessionToken} pat ${pulumiToken} jwt ${jwt}`;
        const out = redactText(text);
        for (const planted of [secretKey, sessionToken, pulumiToken, jwt]) assert.ok(!out.includes(planted), out);
        assert.match(out, /secret=\[redacted, 40 chars\]/);
        assert.match(out, /token=\[redacted, \d+ chars\]/);
        assert.match(out, /pat pul-…\[redacted, 44 chars\]/);
        // Cut short (a response truncated at 300 characters): still a Pulumi token.
        assert.equal(redactText(`body: "${pulumiToken.slice(0, 16)}`), 'body: "pul-…[redacted, 16 chars]');
        assert.match(out, /jwt \[redacted JWT, \d+ chars\]/);
    });

    it("finds a shape glued to a word character: a letter, a digit or `_` before or after it", () => {
        // `\b` missed these: `_`, letters and digits are word characters on both sides of the glue.
        for (const [before, after] of [["deploy_", ""], ["", "_old"], ["role", "x"], ["1", "2"]] as const) {
            const out = redactText(`${before}${ak("AKIA")}${after}`);
            assert.ok(!out.includes(ak("AKIA")), out);
            assert.equal(out, `${before}AKIA…[redacted, 20 chars]${after}`);
            for (const planted of [jwt, pulumiToken]) {
                const glued = redactText(`${before}${planted}${after}`);
                assert.ok(!glued.includes(planted.slice(4)), glued);
                assert.ok(glued.startsWith(before), glued);
            }
        }
    });

    it("leaves names, URNs, ARNs, subjects and hex digests alone", () => {
        const keep = [
            "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role",
            "arn:aws:iam::123456789012:role/MyVeryLongRoleName2024ForPulumiDeploymentsX",
            "pulumi:environments:org:acme:env:pulumi-environments-production/networking-eu-west-1",
            "pulumi:deploy:org:acme:project:payments:stack:prod:operation:update:scope:write",
            "AcmeCorpProductionDeploymentRoleForPulumi",
            "0123456789abcdef0123456789abcdef01234567",
            "Statement[1].Condition.StringLike[\"api.pulumi.com/oidc:sub\"]",
        ];
        for (const s of keep) assert.equal(redactText(s), s);
    });

    it("redacts keys and values deep inside objects and arrays without touching the input", () => {
        const input = { a: [{ detail: ak("ASIA") }], [ak("AKIA")]: 1, n: 3, b: null };
        const out = redactDeep(input);
        assert.deepEqual(out, { a: [{ detail: "ASIA…[redacted, 20 chars]" }], "AKIA…[redacted, 20 chars]": 1, n: 3, b: null });
        assert.equal(input.a[0]?.detail, ak("ASIA"));
    });
});

describe("redactText's first scan", () => {
    it("finds a run of base64 characters of the length asked for wherever it is, reading only some characters", () => {
        const naive = (t: string, min: number): boolean => new RegExp(`[A-Za-z0-9+/]{${min}}`).test(t);
        const text = fc.array(fc.oneof(fc.constantFrom(" ", ":", "-", "=", "é", "."), fc.stringMatching(/^[A-Za-z0-9+/]{1,50}$/)), { maxLength: 12 }).map((ps) => ps.join(""));
        fc.assert(
            fc.property(text, fc.integer({ min: 1, max: 45 }), (t, min) => {
                assert.equal(hasBase64Run(t, min), naive(t, min), JSON.stringify([t, min]));
            }),
            { numRuns: 5000 },
        );
        for (let at = 0; at <= 60; at++) {
            const t = `${"a b ".repeat(30).slice(0, at)}${"x".repeat(40)}${" c".repeat(10)}`;
            assert.ok(hasBase64Run(t, 40), String(at));
            assert.ok(!hasBase64Run(t.replace("x".repeat(40), `${"x".repeat(20)} ${"x".repeat(19)}`), 40), String(at));
        }
    });


    it("lets through only text in which no shape matches", () => {
        // Strings made of the shapes' own letters and their near misses: every credential shape, cut or glued.
        const piece = fc.constantFrom("eyJ", "ey", "J", "pul-", "pul", "-", "AKIA", "ASIA", "0", "9", "a", "Z", "+", "/", "=", ".", "_", " ", ":", "ABCDEFGHIJ", "abcdef0123", "0123456789");
        const text = fc.array(piece, { maxLength: 60 }).map((ps) => ps.join(""));
        fc.assert(fc.property(text, (t) => redactText(t) === redactShapes(t)), { numRuns: 3000 });
        // And it does redact: the shapes themselves get through the scan.
        const key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert.notEqual(redactText(`k=${key}`), `k=${key}`);
        // The shortest shape: a Pulumi token cut off after 6 hex digits, 10 characters in all.
        assert.equal(redactText("pul-abcdef"), `pul-…[redacted, 10 chars]`);
        assert.equal(redactText("urn:pulumi:prod::big::aws:iam/role:Role::role-6"), "urn:pulumi:prod::big::aws:iam/role:Role::role-6");
        // An access key id is 20 characters, caught by its type prefix; a 25-letter action name is no shape.
        assert.equal(redactText(`id ${ak("AKIA")} end`), "id AKIA…[redacted, 20 chars] end");
        assert.equal(redactText('"Action": "sts:AssumeRoleWithWebIdentity"'), '"Action": "sts:AssumeRoleWithWebIdentity"');
    });
});

describe("Redactor (known secrets)", () => {
    it("shortens access key ids to prefix and last four", () => {
        assert.equal(shortenKeyId(FIXTURE_CREDENTIALS.accessKeyId), "ASIA…MPLE");
        assert.equal(shortenKeyId("AKIA1234"), "AK…");
    });

    it("scrubs registered secrets whole and ignores values shorter than 8 characters", () => {
        const r = new Redactor();
        r.add("secret-value-1", "secret-value-12345", undefined, "short", null);
        assert.equal(r.size, 2);
        assert.equal(r.scrub("a secret-value-12345 b secret-value-1 c short"), "a [redacted, 18 chars] b [redacted, 14 chars] c short");
    });

    it("scrubs any run of 8 or more characters of a known secret: prefixes, suffixes, middles", () => {
        const token = "IQoJb3JpZ2luX2VjEJrSessionTokenMiddlePart";
        const r = new Redactor();
        r.add(token);
        const prefix = token.slice(0, 12);
        const middle = token.slice(10, 30);
        assert.equal(r.scrub(`STS said: token ${prefix}... is invalid`), "STS said: token [redacted, 12 chars]... is invalid");
        assert.equal(r.scrub(`[${middle}]`), "[[redacted, 20 chars]]");
        assert.equal(r.scrub(`7 only: ${token.slice(0, 7)}`), `7 only: ${token.slice(0, 7)}`);
    });

    it("scrubs a secret's digits where they continue its other characters: a token that ends or has a run in digits", () => {
        // A Pulumi token is 40 hex digits: about one in fifty ends in eight or more decimal digits.
        const tokens = [`pul-abcdefabcdef${"0123456789".repeat(2)}01234567`, `pul-${"0123456789abcdef".repeat(2)}0123456${"7"}`, `pul-ab${"1234567890".repeat(2)}cdef${"9".repeat(14)}`];
        for (const token of tokens) {
            const r = new Redactor();
            r.add(token);
            const out = r.scrub(`HTTP 404 no env for token ${token} end`);
            assert.equal(out, `HTTP 404 no env for token [redacted, ${token.length} chars] end`);
            // A response that echoes only its end, digits and a letter before them, is scrubbed too.
            const tail = token.slice(-12);
            if (/[^0-9]/.test(tail)) assert.equal(r.scrub(`<${tail}>`), `<[redacted, 12 chars]>`);
        }
        // Digits alone, though the secret holds them, stay: what account ids and timestamps are made of.
        const r = new Redactor();
        r.add(tokens[0]);
        assert.equal(r.scrub("account 0123456789012345 at 20123456"), "account 0123456789012345 at 20123456");
    });

    it("wraps a sink so every chunk is scrubbed, keeping isTTY", () => {
        const written: string[] = [];
        const r = new Redactor();
        const sink = redactingSink({ write: (s: string) => written.push(s), isTTY: true }, r);
        r.add("verysecret-0123456789abcdef");
        sink.write("token verysecret-0123456789abcdef here");
        assert.deepEqual(written, ["token [redacted, 27 chars] here"]);
        assert.equal(sink.isTTY, true);
    });

    it("makes service text one line without control characters (C0, DEL, C1, U+2028)", () => {
        assert.equal(oneLine("a\nb\tc\u0007d   e\u0085f\u2028g"), "a b c d e f g");
        assert.equal(oneLine("x".repeat(50), 10), "xxxxxxx...");
    });

    it("redactDeep walks 100,000 levels without recursion", () => {
        let deep: unknown = STATIC_KEY_ID;
        for (let i = 0; i < 100_000; i++) deep = [deep];
        let out = redactDeep(deep);
        for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
        assert.equal(out, "AKIA…[redacted, 20 chars]");
    });
});
