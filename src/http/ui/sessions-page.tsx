import type { Principal } from '../../auth/principal.js';
import { EntryOutcomeSchema } from '../../ledger/entry.js';
import { agentLabel } from '../../review/agent-label.js';
import type { SessionSummary } from '../../review/session-summaries.js';
import { durationText } from '../../review/duration-text.js';
import { PageLayout } from './page-layout.js';

/** The filter form's fields as the reader typed them (shown again), and the session list filtered by them. */
export interface SessionsPageProps {
  readonly principal: Principal;
  readonly log: string;
  readonly filters: Readonly<Record<'agent' | 'tool' | 'since' | 'until' | 'outcome', string>>;
  readonly problem: string | undefined;
  readonly sessions: readonly SessionSummary[];
  /** More sessions match than the page shows. */
  readonly truncated: boolean;
}

const TEXT_FILTERS = [
  { name: 'agent', label: 'Agent', hint: 'agent id or client name' },
  { name: 'tool', label: 'Tool', hint: 'echo or everything__echo' },
  { name: 'since', label: 'Since', hint: '2026-01-31 or …T12:00:00Z' },
  { name: 'until', label: 'Until', hint: '2026-01-31 or …T12:00:00Z' },
] as const;

export function SessionsPage({ principal, log, filters, problem, sessions, truncated }: SessionsPageProps) {
  return (
    <PageLayout title="Sessions" principal={principal}>
      <h1>Sessions of log {log}</h1>
      <form class="filters" method="get" action="/ui/sessions">
        {TEXT_FILTERS.map(({ name, label, hint }) => (
          <label>
            {label}
            <input name={name} value={filters[name]} placeholder={hint} />
          </label>
        ))}
        <label>
          Outcome
          <select name="outcome">
            <option value="">any</option>
            {EntryOutcomeSchema.options.map((outcome) => (
              <option value={outcome} selected={filters.outcome === outcome}>
                {outcome}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
        <a href="/ui/sessions">Clear</a>
      </form>
      {problem === undefined ? null : (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <table id="sessions">
        <thead>
          <tr>
            <th>Session</th>
            <th>Agent</th>
            <th>Started (UTC)</th>
            <th>Duration</th>
            <th>Calls</th>
            <th>Denied</th>
            <th>Approvals</th>
            <th>Errors</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr data-session={session.session}>
              <td>
                <a href={`/ui/sessions/${encodeURIComponent(session.session)}`}>{session.session}</a>
              </td>
              <td>{agentLabel(session.agent)}</td>
              <td>{session.started}</td>
              <td class="number">{durationText(session.durationMs)}</td>
              <td class="number">{session.calls}</td>
              <td class="number">{session.denials}</td>
              <td class="number">{session.approvals}</td>
              <td class="number">{session.errors}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        {sessions.length === 0 ? 'No session matches.' : `${sessions.length} session${sessions.length === 1 ? '' : 's'}, oldest first.`}
        {truncated ? ' More match than one page shows: narrow the filters, or use agenttrail sessions.' : ''}
      </p>
    </PageLayout>
  );
}
