/**
 * The discrete-event queue: events run in time order, and events at the same
 * time in the order they were scheduled (a binary heap keyed on (time, seq)).
 */
export class EventQueue {
  private readonly times: number[] = []
  private readonly seqs: number[] = []
  private readonly fns: Array<() => void> = []
  private seq = 0
  /** Current simulated time, ms. */
  now = 0
  /** Events run so far. */
  processed = 0

  get size (): number { return this.fns.length }

  /** Runs `fn` at `at` (not before now). */
  at (at: number, fn: () => void): void {
    const t = Math.max(at, this.now)
    this.times.push(t)
    this.seqs.push(this.seq++)
    this.fns.push(fn)
    this.up(this.fns.length - 1)
  }

  /** Runs `fn` `delay` ms from now. */
  after (delay: number, fn: () => void): void {
    this.at(this.now + Math.max(0, delay), fn)
  }

  /** Runs events until none is left, or the next is later than `until`, or `maxEvents` ran. */
  run (until = Infinity, maxEvents = Infinity): void {
    let n = 0
    while (this.fns.length > 0 && this.times[0]! <= until && n < maxEvents) {
      const fn = this.pop()
      fn()
      n++
      this.processed++
    }
  }

  private less (i: number, j: number): boolean {
    return this.times[i]! < this.times[j]! || (this.times[i] === this.times[j] && this.seqs[i]! < this.seqs[j]!)
  }

  private swap (i: number, j: number): void {
    const t = this.times[i]!; this.times[i] = this.times[j]!; this.times[j] = t
    const s = this.seqs[i]!; this.seqs[i] = this.seqs[j]!; this.seqs[j] = s
    const f = this.fns[i]!; this.fns[i] = this.fns[j]!; this.fns[j] = f
  }

  private up (i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) return
      this.swap(i, p)
      i = p
    }
  }

  private pop (): () => void {
    const top = this.fns[0]!
    this.now = this.times[0]!
    const last = this.fns.length - 1
    this.swap(0, last)
    this.times.pop(); this.seqs.pop(); this.fns.pop()
    let i = 0
    const n = this.fns.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.less(l, m)) m = l
      if (r < n && this.less(r, m)) m = r
      if (m === i) break
      this.swap(i, m)
      i = m
    }
    return top
  }
}
