import type { Principal } from '../../auth/principal.js';
import { agentLabel } from '../../review/agent-label.js';
import type { CallView, EventView, LinkedEntryView } from '../../review/call-view.js';
import type { SessionSummary } from '../../review/session-summaries.js';
import { durationText } from '../../review/duration-text.js';
import { PageLayout } from './page-layout.js';
import { BAR_OUTCOME_LABELS, barOutcomeOf, TimelineChart } from './timeline-chart.js';

export interface SessionPageProps {
  readonly principal: Principal;
  readonly log: string;
  readonly summary: SessionSummary;
  readonly items: readonly (CallView | EventView)[];
  /** More calls and events were recorded than the page shows. */
  readonly truncated: boolean;
  /** The gateway's verifier key, as `agenttrail keys show` prints it: the default the reader may replace. */
  readonly verifierKey: string;
}

/** One session: its summary, its calls as bars over time, each call's and event's detail, and the verification panel. */
export function SessionPage({ principal, log, summary, items, truncated, verifierKey }: SessionPageProps) {
  const calls = items.filter((item): item is CallView => item.type === 'call');
  return (
    <PageLayout title={`Session ${summary.session}`} principal={principal} scripts={['session-page']}>
      <h1>Session {summary.session}</h1>
      <div class="summary">
        <span>Agent</span>
        <span>{agentLabel(summary.agent)}</span>
        <span>Time</span>
        <span>
          {summary.started} to {summary.ended} ({durationText(summary.durationMs)})
        </span>
        <span>Calls</span>
        <span>
          {summary.calls} tool calls: {summary.denials} denied, {summary.approvals} waited for approval, {summary.errors} failed
        </span>
        <span>Entries</span>
        <span>
          {summary.entries}, index {summary.firstIndex} to {summary.lastIndex} of log {log}
        </span>
      </div>
      <h2>Timeline</h2>
      <TimelineChart calls={calls} started={summary.started} ended={summary.ended} />
      <section class="verification">
        <h2>Verify in this browser</h2>
        <p class="muted">
          Checks the entries ticked below against the log's latest signed checkpoint: this browser recomputes each entry's leaf hash and inclusion proof and checks the checkpoint's Ed25519 signature itself, with the key
          you give.
        </p>
        <form id="verification">
          <label>
            Verifier key of the log (as <code>agenttrail keys show</code> prints it; replace it with the one you trust)
            <input type="text" name="key" value={verifierKey} spellcheck={false} />
          </label>
          <button type="submit">Verify selected entries</button>
        </form>
        <p id="verification-summary" role="status" />
        <ul id="verification-results" />
      </section>
      <h2>Calls and events</h2>
      {items.map((item) => (item.type === 'call' ? <CallDetail call={item} /> : <EventDetail event={item} />))}
      {truncated ? <p class="muted">The session has more calls and events than one page shows; agenttrail show SESSION prints them all.</p> : null}
    </PageLayout>
  );
}

function CallDetail({ call }: { call: CallView }) {
  const outcome = barOutcomeOf(call);
  const what = call.direction === 'server' ? `${call.method} asked by ${call.server ?? 'an upstream'}` : `${call.method} ${call.name ?? call.tool ?? ''}`;
  return (
    <details class="item call" id={`call-${call.index}`} data-call={call.index}>
      <summary>
        <EntryBoxes indexes={call.entries} /> {call.time.slice(11)} {what} <span class={`outcome-${outcome}`}>{BAR_OUTCOME_LABELS[outcome]}</span>
        {call.durationMs === null ? '' : ` ${durationText(call.durationMs)}`}
      </summary>
      <dl>
        <dt>Server, tool</dt>
        <dd>
          {call.server ?? '—'}, {call.tool ?? '—'}
        </dd>
        <dt>Arguments</dt>
        <dd>
          <pre>{JSON.stringify(call.arguments, null, 2)}</pre>
        </dd>
        <dt>Result</dt>
        <dd>{call.result}</dd>
        <dt>Recorded outcome</dt>
        <dd>
          <pre>{JSON.stringify(call.resultPayload, null, 2)}</pre>
        </dd>
        {call.credentials.map((credential) => (
          <>
            <dt>Credential (entry {credential.index})</dt>
            <dd>
              {credential.name}, {credential.carrier}
              {credential.scope === undefined ? '' : `, scope ${credential.scope}`}, fingerprint <code>{credential.fingerprint}</code>
            </dd>
          </>
        ))}
        {[...call.decisions, ...call.approvals, ...call.others].map((entry) => (
          <LinkedEntry entry={entry} />
        ))}
        <dt>Call id, arguments hash</dt>
        <dd>
          <code>{call.call}</code>, <code>{call.argsHash ?? '—'}</code>
        </dd>
      </dl>
    </details>
  );
}

function LinkedEntry({ entry }: { entry: LinkedEntryView }) {
  return (
    <>
      <dt>
        {entry.kind} (entry {entry.index}, {entry.time.slice(11)})
      </dt>
      <dd>
        <pre>{JSON.stringify(entry.payload, null, 2)}</pre>
      </dd>
    </>
  );
}

function EventDetail({ event }: { event: EventView }) {
  return (
    <details class="item event" id={`entry-${event.index}`}>
      <summary>
        <EntryBoxes indexes={[event.index]} /> {event.time.slice(11)} {event.kind}
      </summary>
      <pre>{JSON.stringify(event.payload, null, 2)}</pre>
    </details>
  );
}

/** The entries an item is made of, each to tick for the verification panel (ticked: all are checked unless the reader says otherwise). */
function EntryBoxes({ indexes }: { indexes: readonly number[] }) {
  return (
    <>
      {indexes.map((index) => (
        <label class="muted" title={`verify entry ${index}`}>
          <input type="checkbox" name="entry" value={String(index)} form="verification" checked />#{index}
        </label>
      ))}
    </>
  );
}
