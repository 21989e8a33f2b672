import { attachSlot, CallSlot, whileHoldingSlot } from './call-slot.js';

describe('CallSlot', () => {
  it('is given back when the response is over and nothing holds it, once', () => {
    const ended: number[] = [];
    const slot = new CallSlot(() => ended.push(1));
    slot.responseClosed();
    expect(ended).toEqual([1]);
    expect(slot.hold()).toBeNull(); // the client left before the work began
    expect(ended).toEqual([1]);
  });

  it('is held by work past the response, until the last holder lets go', () => {
    const ended: number[] = [];
    const slot = new CallSlot(() => ended.push(1));
    const a = slot.hold()!;
    const b = slot.hold()!;
    slot.responseClosed();
    a();
    a(); // letting go twice counts once
    expect(ended).toEqual([]);
    b();
    expect(ended).toEqual([1]);
  });

  it('work that ends before the response does not give it back early', () => {
    const ended: number[] = [];
    const slot = new CallSlot(() => ended.push(1));
    slot.hold()!();
    expect(ended).toEqual([]);
    slot.responseClosed();
    expect(ended).toEqual([1]);
  });

  it('whileHoldingSlot runs work without a slot, holds one through failures, and skips work once the response is over', async () => {
    let ran = 0;
    expect(await whileHoldingSlot({}, async () => ++ran)).toBe(1);
    const ended: number[] = [];
    const req = {};
    const slot = new CallSlot(() => ended.push(1));
    attachSlot(req, slot);
    await expect(
      whileHoldingSlot(req, async () => {
        slot.responseClosed(); // the client leaves while the work runs
        slot.responseClosed(); // (the response and its connection both tell)
        expect(ended).toEqual([]);
        throw new Error('upstream failed');
      }),
    ).rejects.toThrow('upstream failed');
    expect(ended).toEqual([1]);
    const gone = {};
    const closed = new CallSlot(() => ended.push(2));
    attachSlot(gone, closed);
    closed.responseClosed();
    expect(await whileHoldingSlot(gone, async () => ++ran)).toBeUndefined();
    expect(ran).toBe(1);
    expect(ended).toEqual([1, 2]);
  });
});
