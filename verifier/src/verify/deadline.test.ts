import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backoffMs, Deadline, DEFAULT_RETRY, parseRetryAfter, sleep } from "./deadline.js";
import { ServiceError } from "./errors.js";

describe("retry policy and deadline", () => {
    it("parses Retry-After as seconds or an HTTP date", () => {
        assert.equal(parseRetryAfter("3"), 3000);
        assert.equal(parseRetryAfter(" 0 "), 0);
        const now = Date.UTC(2026, 0, 1, 0, 0, 0);
        assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
        assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
        assert.equal(parseRetryAfter("soon"), undefined);
        assert.equal(parseRetryAfter(undefined), undefined);
        // RFC 9110's other two date forms.
        assert.equal(parseRetryAfter("Thursday, 01-Jan-26 00:00:05 GMT", now), 5000);
        assert.equal(parseRetryAfter("Thu Jan  1 00:00:05 2026", now), 5000);
    });
    it("reads what is neither delta-seconds nor an HTTP-date as no Retry-After at all (so the normal backoff applies)", () => {
        // Date.parse reads these as dates (the year -5, 1 May 2001, ...), in the past: a wait of 0.
        const now = Date.UTC(2026, 0, 1, 0, 0, 0);
        for (const v of ["-5", "1.5", "+5", "1e3", "0x10", "5s", "", " ", "2026-01-01T00:00:05Z", "Thu, 01 Jan 2026", "1 2"]) {
            assert.equal(parseRetryAfter(v, now), undefined, JSON.stringify(v));
        }
        // Digits only, however many: a wait (bounded by the caller), never a date.
        assert.equal(parseRetryAfter("123456789012345", now), 123456789012345 * 1000);
    });
    it("names the overall deadline in seconds: whole, or to a tenth", () => {
        assert.equal(new Deadline(600_000).error("opening x").message, "opening x: the overall deadline of 600 s passed");
        assert.equal(new Deadline(1500).error("opening x").message, "opening x: the overall deadline of 1.5 s passed");
        assert.equal(new Deadline(300).error("opening x").message, "opening x: the overall deadline of 0.3 s passed");
    });
    it("backs off 1 s, doubling, capped", () => {
        assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(DEFAULT_RETRY, n)), [1000, 2000, 4000, 8000]);
        assert.equal(backoffMs({ ...DEFAULT_RETRY, maxDelayMs: 3000 }, 5), 3000);
    });
    it("refuses to sleep past the deadline and aborts a sleep when the deadline passes", async () => {
        const d = new Deadline(50);
        await assert.rejects(sleep(1000, d, "waiting"), (e: unknown) => e instanceof ServiceError && e.kind === "timeout");
        const d2 = new Deadline(60);
        const t0 = Date.now();
        await assert.rejects(sleep(40, d2, "a").then(() => sleep(40, d2, "b")), (e: unknown) => e instanceof ServiceError && e.kind === "timeout");
        assert.ok(Date.now() - t0 < 500);
    });
    it("bounds each request by the remaining time", () => {
        const d = new Deadline(200);
        const r = d.requestSignal(10_000);
        assert.ok(r.timeoutMs <= 200 && r.timeoutMs > 0);
        assert.equal(r.timedOut(), false);
        const parent = new AbortController();
        const d2 = new Deadline(10_000, parent.signal);
        parent.abort();
        assert.ok(d2.expired());
    });
});
