import { type KeyLimitsStore } from '@app/store';
import { InFlightLeases } from './in-flight-leases.js';

/** A stand-in for the store's lease calls (our own repository boundary): records them, can fail them. */
function stubStore(fail = false) {
  const calls: { op: 'renew' | 'release'; keyId: string; leases: string[] }[] = [];
  const answer = () => (fail ? Promise.reject(new Error('redis away')) : Promise.resolve());
  const store = {
    renew: (keyId: string, leases: string[]) => (calls.push({ op: 'renew', keyId, leases: [...leases].sort() }), answer().then(() => leases.length)),
    release: (keyId: string, leases: string[]) => (calls.push({ op: 'release', keyId, leases }), answer()),
  } as unknown as KeyLimitsStore;
  return { store, calls };
}
const timerOf = (l: InFlightLeases) => (l as unknown as { timer?: NodeJS.Timeout }).timer;

describe('InFlightLeases', () => {
  it('renews exactly the leases held, per key; a release removes one; a refused one is only forgotten', async () => {
    const { store, calls } = stubStore();
    const leases = new InFlightLeases(store, () => undefined, 3_600_000, 100);
    const a1 = leases.take('key_a');
    const a2 = leases.take('key_a');
    const b1 = leases.take('key_b');
    expect(new Set([a1, a2, b1]).size).toBe(3);
    expect(leases.size).toBe(3);
    await leases.renewAll();
    expect(calls).toEqual([
      { op: 'renew', keyId: 'key_a', leases: [a1, a2].sort() },
      { op: 'renew', keyId: 'key_b', leases: [b1] },
    ]);
    calls.length = 0;
    leases.forget('key_b', b1); // its admission was refused: nothing to remove in Redis
    leases.release('key_a', a1);
    expect(calls).toEqual([{ op: 'release', keyId: 'key_a', leases: [a1] }]);
    calls.length = 0;
    await leases.renewAll();
    expect(calls).toEqual([{ op: 'renew', keyId: 'key_a', leases: [a2] }]); // the other call of key_a still renewed
    leases.release('key_a', a2);
    expect(leases.size).toBe(0);
    await leases.close();
  });

  it('renews on a timer only while something is held', async () => {
    const { store, calls } = stubStore();
    const leases = new InFlightLeases(store, () => undefined, 10, 100);
    expect(timerOf(leases)).toBeUndefined();
    const t = leases.take('key_a');
    expect(timerOf(leases)).toBeDefined();
    const until = Date.now() + 5000;
    while (!calls.some((c) => c.op === 'renew') && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(calls.find((c) => c.op === 'renew')).toEqual({ op: 'renew', keyId: 'key_a', leases: [t] });
    leases.release('key_a', t);
    expect(timerOf(leases)).toBeUndefined();
    await leases.close();
  });

  it('counts failed renewals and releases, never throws; close releases everything still held', async () => {
    const { store, calls } = stubStore(true);
    const failures: string[] = [];
    const leases = new InFlightLeases(store, (op) => failures.push(op), 3_600_000, 100);
    const t = leases.take('key_a');
    const b = leases.take('key_b');
    await leases.renewAll();
    expect(failures).toEqual(['renew', 'renew']);
    leases.release('key_a', t);
    await new Promise((r) => setImmediate(r));
    expect(failures).toContain('release');
    calls.length = 0;
    await leases.close();
    expect(calls).toEqual([{ op: 'release', keyId: 'key_b', leases: [b] }]);
    expect(leases.size).toBe(0);
    expect(timerOf(leases)).toBeUndefined();
  });
});
