import assert from "node:assert/strict";

/** Counts a numbered stream: what arrived, what arrived twice, what arrived out of order. */
export class Tally {
  received = 0;
  duplicates = 0;
  outOfOrder = 0;
  #next = 0;
  readonly #seen = new Set<number>();

  /** Records one arrival of `seq`. */
  add(seq: number): void {
    if (this.#seen.has(seq)) {
      this.duplicates++;
      return;
    }
    this.#seen.add(seq);
    if (seq !== this.#next) this.outOfOrder++;
    this.#next = seq + 1;
    this.received++;
  }
}

/** One fresh tally per client. */
export function tallies(count: number): Tally[] {
  return Array.from({ length: count }, () => new Tally());
}

/** The sums over several tallies (one per client). */
export interface Totals {
  readonly received: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
}

/** Sums the tallies of every client. */
export function totals(list: readonly Tally[]): Totals {
  let received = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const t of list) {
    received += t.received;
    duplicates += t.duplicates;
    outOfOrder += t.outOfOrder;
  }
  return { received, duplicates, outOfOrder };
}

/** `"<label> sent N, delivered N, duplicates N, out of order N"`, for a run's summary line. */
export function describeTotals(label: string, sent: number, list: readonly Tally[]): string {
  const t = totals(list);
  return `${label} sent ${sent}, delivered ${t.received}, duplicates ${t.duplicates}, out of order ${t.outOfOrder}`;
}

/** Every one of the `sent` messages arrived exactly once and in order (per client). */
export function assertExactlyOnce(label: string, sent: number, list: readonly Tally[]): void {
  const t = totals(list);
  assert.equal(t.duplicates, 0, `${label}: duplicates`);
  assert.equal(t.outOfOrder, 0, `${label}: out of order`);
  assert.equal(t.received, sent, `${label}: lost ${sent - t.received}`);
}
