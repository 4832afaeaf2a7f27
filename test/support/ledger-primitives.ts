import { afterAll, beforeAll, describe } from 'vitest';
import { installLedgerPrimitives, NOBLE_PRIMITIVES } from '../../src/ledger/primitives.js';
import type { LedgerPrimitives } from '../../src/ledger/primitives.js';
import { NODE_PRIMITIVES } from '../../src/node-primitives.js';

/**
 * Runs `suite` once with the portable primitives and once with the native ones src/node.ts
 * installs: every known answer must hold for both.
 */
export function describeWithEachPrimitives(suite: () => void): void {
  describe.each([
    { name: 'noble', primitives: NOBLE_PRIMITIVES },
    { name: 'node:crypto', primitives: NODE_PRIMITIVES },
  ])('with $name primitives', ({ primitives }) => {
    let replaced: LedgerPrimitives;
    beforeAll(() => {
      replaced = installLedgerPrimitives(primitives);
    });
    afterAll(() => {
      installLedgerPrimitives(replaced);
    });
    suite();
  });
}
