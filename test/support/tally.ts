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
