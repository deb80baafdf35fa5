/** Counts requests being handled at once, across one or several stand-ins (for concurrency assertions and benches). */
export class InFlightCounter {
    now = 0;
    max = 0;
    enter(): void {
        this.now++;
        if (this.now > this.max) this.max = this.now;
    }
    exit(): void {
        this.now--;
    }
    /** Forgets the high-water mark (not the requests in flight). */
    reset(): void {
        this.max = this.now;
    }
}
