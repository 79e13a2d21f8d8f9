/**
 * Items ordered by the time they are due: a binary min-heap, so the dispatcher needs one timer
 * for the earliest item however many retries are waiting.
 */
export class DueQueue<T> {
  private readonly heap: Array<{ due: number; order: number; item: T }> = [];
  private added = 0;

  get size(): number {
    return this.heap.length;
  }

  /** When the earliest item is due, or Infinity when there is none. */
  get nextDue(): number {
    return this.heap[0]?.due ?? Infinity;
  }

  push(due: number, item: T): void {
    // `order` keeps items due at the same moment in the order they were added.
    this.heap.push({ due, order: this.added++, item });
    this.up(this.heap.length - 1);
  }

  /** Removes and answers every item due at or before `now`, earliest first. */
  popDue(now: number): T[] {
    const due: T[] = [];
    while (this.heap.length > 0 && this.nextDue <= now) due.push(this.pop() as T);
    return due;
  }

  /** Removes and answers the earliest item. */
  pop(): T | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length > 0 && last !== undefined) {
      this.heap[0] = last;
      this.down(0);
    }
    return top?.item;
  }

  private before(a: number, b: number): boolean {
    const left = this.heap[a];
    const right = this.heap[b];
    if (left === undefined || right === undefined) return false;
    return left.due < right.due || (left.due === right.due && left.order < right.order);
  }

  private swap(a: number, b: number): void {
    const left = this.heap[a];
    const right = this.heap[b];
    if (left === undefined || right === undefined) return;
    this.heap[a] = right;
    this.heap[b] = left;
  }

  private up(index: number): void {
    for (let child = index; child > 0; ) {
      const parent = (child - 1) >> 1;
      if (!this.before(child, parent)) return;
      this.swap(child, parent);
      child = parent;
    }
  }

  private down(index: number): void {
    for (let parent = index; ; ) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }
}
