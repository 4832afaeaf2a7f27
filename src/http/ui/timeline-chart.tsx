import type { CallView } from '../../review/call-view.js';
import { durationText } from '../../review/duration-text.js';

/** How a call ended, as the timeline colours it (ui-stylesheet.ts: `.outcome-<name>`). */
export type BarOutcome = 'ok' | 'error' | 'timeout' | 'denied' | 'cancelled' | 'pending';

export const BAR_OUTCOME_LABELS: Readonly<Record<BarOutcome, string>> = {
  ok: 'ok',
  error: 'error',
  timeout: 'timeout',
  denied: 'denied or refused',
  cancelled: 'cancelled',
  pending: 'no outcome recorded',
};

export function barOutcomeOf(call: CallView): BarOutcome {
  if (call.denied) return 'denied';
  switch (call.outcome) {
    case null:
      return 'pending';
    case 'refused':
      return 'denied';
    default:
      return call.outcome;
  }
}

const WIDTH = 1000;
const LABEL_WIDTH = 200;
const RIGHT_MARGIN = 12;
const TOP = 22;
const ROW = 20;
const BAR_HEIGHT = 14;
/** A call that took no measurable time is still a bar one can see and click. */
const MIN_BAR_WIDTH = 3;

/**
 * The session's calls as bars over its time, one row each in the order they were made: a bar
 * starts when the call was recorded and ends when its outcome was (at the session's end when
 * none was), coloured by how it ended, and links to the call's detail below.
 */
export function TimelineChart({ calls, started, ended }: { calls: readonly CallView[]; started: string; ended: string }) {
  const start = Date.parse(started);
  const span = Math.max(Date.parse(ended) - start, 1);
  const plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
  const xOf = (time: number) => LABEL_WIDTH + ((time - start) / span) * plot;
  const height = TOP + calls.length * ROW + 8;
  return (
    <figure>
      <svg class="timeline" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={`timeline of ${calls.length} calls`}>
        <line class="axis" x1={LABEL_WIDTH} y1={TOP - 4} x2={WIDTH - RIGHT_MARGIN} y2={TOP - 4} />
        <text x={LABEL_WIDTH} y={12}>
          {started.slice(11)}
        </text>
        <text x={WIDTH - RIGHT_MARGIN} y={12} text-anchor="end">
          {`${ended.slice(11)} (+${durationText(span)})`}
        </text>
        {calls.map((call, row) => {
          const outcome = barOutcomeOf(call);
          const begin = Date.parse(call.time);
          const x = xOf(begin);
          const width = Math.max(xOf(Date.parse(call.ended ?? ended)) - x, MIN_BAR_WIDTH);
          const y = TOP + row * ROW;
          const name = call.name ?? call.tool ?? call.method;
          return (
            <a href={`#call-${call.index}`}>
              <text x={LABEL_WIDTH - 6} y={y + BAR_HEIGHT - 3} text-anchor="end">
                {name.length > 30 ? `${name.slice(0, 29)}…` : name}
              </text>
              <rect class={`bar outcome-${outcome}`} data-outcome={outcome} data-call={call.index} x={x.toFixed(1)} y={y} width={width.toFixed(1)} height={BAR_HEIGHT} rx={2}>
                <title>{`${name}: ${BAR_OUTCOME_LABELS[outcome]}${call.durationMs === null ? '' : `, ${durationText(call.durationMs)}`} (entry ${call.index})`}</title>
              </rect>
            </a>
          );
        })}
      </svg>
      <figcaption class="legend">
        {Object.entries(BAR_OUTCOME_LABELS).map(([outcome, label]) => (
          <span class={`outcome-${outcome}`}>{label}</span>
        ))}
      </figcaption>
    </figure>
  );
}
