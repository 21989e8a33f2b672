import { decisionMarker, energyCorrectionMarker, energySlotMarker, eventMarker, isContested, parseMarker, preferenceMarker, qualityMarker } from './markers.js';

const earliest = { feedback: { aggregation: 'earliest' as const, windowSeconds: 60, defaultReward: null } };
const all = { feedback: { ...earliest.feedback, aggregation: 'all' as const } };

describe('markers', () => {
  it('parseMarker reads back what each builder wrote', () => {
    expect(parseMarker(decisionMarker('dec1'))).toEqual({ kind: 'decision', id: 'dec1' });
    expect(parseMarker(eventMarker('usage:dec1'))).toEqual({ kind: 'event', id: 'usage:dec1' });
    expect(parseMarker(qualityMarker(earliest, 'dec1', 'f1'))).toEqual({ kind: 'quality', id: 'dec1' });
    expect(parseMarker(preferenceMarker(earliest, 'dec1', 'f1'))).toEqual({ kind: 'preference', id: 'dec1' });
    expect(parseMarker(energySlotMarker('dec1'))).toEqual({ kind: 'energySlot', id: 'dec1' });
    expect(parseMarker(energyCorrectionMarker('dec1'))).toEqual({ kind: 'energyCorrection', id: 'dec1' });
    expect(parseMarker('z:x')).toBeNull();
    expect(parseMarker('dx')).toBeNull();
  });

  it('keys quality and preferences by the event under "all" aggregation', () => {
    expect(qualityMarker(all, 'dec1', 'f1')).toBe('e:f1');
    expect(preferenceMarker(all, 'dec1', 'f1')).toBe('e:f1');
  });

  it("only markers a decision's events compete for are contested", () => {
    expect([decisionMarker('d'), eventMarker('e')].map(isContested)).toEqual([false, false]);
    expect(
      [qualityMarker(earliest, 'd', 'e'), preferenceMarker(earliest, 'd', 'e'), energySlotMarker('d'), energyCorrectionMarker('d')].map(isContested),
    ).toEqual([true, true, true, true]);
  });
});
