/**
 * Keeps a list of rows in step with a list of items, one row per key: a row is made once, then
 * updated in place, and moved only when the order changed. Refreshing the page every few seconds
 * this way neither flickers nor takes the focus, the selection or the scroll position away from
 * the operator. The host is the DOM in the page and a plain array in the tests.
 */

export interface RowHost<Row> {
  first(): Row | null;
  next(row: Row): Row | null;
  /** Puts `row` (new, or moved from elsewhere in the list) before `before`, or last. */
  place(row: Row, before: Row | null): void;
  remove(row: Row): void;
}

export interface RowMaker<Item, Row> {
  key(item: Item): string;
  create(item: Item): Row;
  update(row: Row, item: Item): void;
}

export class KeyedRows<Item, Row> {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly host: RowHost<Row>,
    private readonly maker: RowMaker<Item, Row>,
  ) {}

  /** The row of a key, if the list has one. */
  row(key: string): Row | undefined {
    return this.rows.get(key);
  }

  sync(items: readonly Item[]): void {
    const wanted = new Set(items.map((item) => this.maker.key(item)));
    for (const [key, row] of this.rows) {
      if (wanted.has(key)) continue;
      this.host.remove(row);
      this.rows.delete(key);
    }

    // After each item, the rows before `expected` are exactly the items so far, in order.
    let expected = this.host.first();
    for (const item of items) {
      const key = this.maker.key(item);
      let row = this.rows.get(key);
      if (row === undefined) {
        row = this.maker.create(item);
        this.rows.set(key, row);
      }
      this.maker.update(row, item);
      if (row === expected) expected = this.host.next(row);
      else this.host.place(row, expected);
    }
  }
}
