import { TenantShare } from './tenant-share.js';

describe('TenantShare', () => {
  it('holds each tenant to its share of an origin, per origin and tenant, and frees a slot once per release', () => {
    const s = new TenantShare(8, 0.5);
    expect(s.limit).toBe(4);
    const a = Array.from({ length: 4 }, () => s.take('http://u1', 'a'));
    expect(a.every((r) => r !== null)).toBe(true);
    expect(s.take('http://u1', 'a')).toBeNull();
    // Another tenant, and the same tenant on another origin, have their own.
    expect(s.take('http://u1', 'b')).not.toBeNull();
    expect(s.take('http://u2', 'a')).not.toBeNull();
    a[0]!();
    a[0]!(); // a second release of one slot frees nothing more
    expect(s.inFlight('http://u1', 'a')).toBe(3);
    expect(s.take('http://u1', 'a')).not.toBeNull();
    expect(s.take('http://u1', 'a')).toBeNull();
    for (const r of a.slice(1)) r!();
    expect(s.inFlight('http://u1', 'a')).toBe(1);
  });

  it('lets every tenant at least one call, however small the pool', () => {
    expect(new TenantShare(1, 0.1).limit).toBe(1);
    expect(new TenantShare(512, 1).limit).toBe(512);
  });

  it('says an origin is crowded when more calls of all tenants are in flight to it than it has connections', () => {
    const s = new TenantShare(4, 0.5);
    const slots = ['a', 'a', 'b', 'b'].map((t) => s.take('http://u1', t)!);
    expect(s.crowded('http://u1')).toBe(false);
    const fifth = s.take('http://u1', 'c')!;
    expect(s.crowded('http://u1')).toBe(true);
    expect(s.crowded('http://u2')).toBe(false);
    fifth();
    expect(s.crowded('http://u1')).toBe(false);
    for (const r of slots) r();
  });
});
