import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../src/ledger/time-ordered-id.js';

describe('timeOrderedId (UUID version 7)', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the time in its first 48 bits', () => {
    const id = timeOrderedId(Date.UTC(2026, 10, 26, 12, 0, 0, 123));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 26, 12, 0, 0, 123));
  });

  it('sorts later ids after earlier ones, and never repeats', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => timeOrderedId())).size).toBe(10_000);
  });
});
