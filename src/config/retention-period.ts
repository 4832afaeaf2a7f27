import { z } from 'zod';

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** How long entries keep their payloads: a whole number of hours, days or weeks, e.g. 90d. */
export const RetentionPeriodSchema = z
  .string()
  .regex(/^[1-9]\d*[hdw]$/, 'expected a whole number of hours, days or weeks, e.g. 36h, 90d or 26w');

export function retentionPeriodMs(period: string): number {
  const unit = period.slice(-1) as keyof typeof UNIT_MS;
  return Number(period.slice(0, -1)) * UNIT_MS[unit];
}
