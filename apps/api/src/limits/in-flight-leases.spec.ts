import { type KeyLimitsStore } from '@app/store';
import { InFlightLeases } from './in-flight-leases.js';

/** A stand-in for the store's lease calls (our own repository boundary): records them, can fail them. */
function stubStore(fail = false) {
  const calls: { op: 'renew' | 'release'; keyId: string; leases: string[] }[] = [];
  const answer = () => (fail ? Promise.reject(new Error('redis away')) : Promise.resolve());
  const store = {
    renew: (keyId: string, leases: string[]) => (calls.push({ op: 'renew', keyId, leases }), answer().then(() => leases.length)),
    release: (keyId: string, leases: string[]) => (calls.push({ op: 'release', keyId, leases }), answer()),
  } as unknown as KeyLimitsStore;
  return { store, calls };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InFlightLeases', () => {
  it('renews every held lease per key while held; releases remove them; refused ones are only forgotten', async () => {
    const { store, calls } = stubStore();
    const leases = new InFlightLeases(store, () => undefined, 30, 100);
    const a1 = leases.take('key_a');
    const a2 = leases.take('key_a');
    const b1 = leases.take('key_b');
    expect(new Set([a1, a2, b1]).size).toBe(3);
    expect(leases.size).toBe(3);
    await sleep(80); // two renewals at least
    const renewals = calls.filter((c) => c.op === 'renew');
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.find((c) => c.keyId === 'key_a')?.leases.sort()).toEqual([a1, a2].sort());
    expect(renewals.find((c) => c.keyId === 'key_b')?.leases).toEqual([b1]);
    leases.forget('key_b', b1); // its admission was refused: nothing to remove in Redis
    leases.release('key_a', a1);
    expect(calls.filter((c) => c.op === 'release')).toEqual([{ op: 'release', keyId: 'key_a', leases: [a1] }]);
    calls.length = 0;
    await sleep(50);
    expect(calls.filter((c) => c.op === 'renew').every((c) => c.keyId === 'key_a' && c.leases.join() === a2)).toBe(true);
    leases.release('key_a', a2);
    expect(leases.size).toBe(0);
    calls.length = 0;
    await sleep(80); // nothing held: the renewal timer stopped
    expect(calls).toEqual([]);
    await leases.close();
  });

  it('counts failed renewals and releases, never throws; close releases everything still held', async () => {
    const { store, calls } = stubStore(true);
    const failures: string[] = [];
    const leases = new InFlightLeases(store, (op) => failures.push(op), 20, 100);
    const t = leases.take('key_a');
    leases.take('key_b');
    await sleep(50);
    expect(failures).toContain('renew');
    leases.release('key_a', t);
    await sleep(0);
    expect(failures).toContain('release');
    calls.length = 0;
    await leases.close();
    expect(calls).toEqual([{ op: 'release', keyId: 'key_b', leases: [expect.any(String)] }]);
    expect(leases.size).toBe(0);
  });
});
