import { type StateSnapshot, StateSnapshots } from './state-snapshots.js';

const snap = (...lengths: number[]): StateSnapshot => ({
  seq: '1',
  rev: 'r',
  arms: new Map(lengths.map((n, i) => [`arm:${i}`, n < 0 ? null : new Float64Array(n)])),
  spare: new Map(),
});

describe('StateSnapshots: the arms a writer last wrote, bounded in bytes', () => {
  it('keeps at most maxBytes of arms, dropping the least recently used snapshots first', () => {
    const s = new StateSnapshots(3 * 800);
    s.set('a', snap(100));
    s.set('b', snap(100, -1)); // an absent field costs nothing
    s.set('c', snap(100));
    expect(s.heldBytes).toBe(2400);
    s.set('a', s.take('a')!); // a is now the most recent
    s.set('d', snap(100));
    expect([s.take('b'), s.take('c'), s.take('a'), s.take('d')].map((x) => x !== undefined)).toEqual([false, true, true, true]);
    expect(s.heldBytes).toBe(0); // taken snapshots are the takers' and count no more
  });

  it('replaces a key (its bytes counted once), never holds a snapshot larger than the bound, and forgets on delete', () => {
    const s = new StateSnapshots(1000);
    s.set('a', snap(50));
    s.set('a', snap(100));
    expect(s.heldBytes).toBe(800);
    s.set('s', { ...snap(5), spare: new Map([['arm:0', new Float64Array(5)]]) }); // spare arrays count too
    expect(s.heldBytes).toBe(880);
    s.delete('s');
    s.set('huge', snap(200));
    expect([s.take('huge'), s.heldBytes]).toEqual([undefined, 800]);
    s.set('a', snap(200)); // too large: the older snapshot of `a` goes too, it is stale now
    expect([s.take('a'), s.heldBytes]).toEqual([undefined, 0]);
    s.set('b', snap(10));
    s.delete('b');
    s.delete('nothing');
    expect([s.take('b'), s.heldBytes]).toEqual([undefined, 0]);
    expect(() => new StateSnapshots(-1)).toThrow(RangeError);
  });
});
