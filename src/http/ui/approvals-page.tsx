import type { RequestView } from '../../approvals/approval-desk.js';
import type { Principal } from '../../auth/principal.js';
import { isPermitted } from '../../auth/role-permissions.js';
import { agentLabel } from '../../review/agent-label.js';
import { PageLayout } from './page-layout.js';

/**
 * The approval requests that wait. An approver decides here: the decision is signed in this
 * browser with their own key (browser/approvals-page.ts), which never leaves the page; the
 * gateway records it only if the signature holds over the stored request.
 */
export function ApprovalsPage({ principal, log, requests }: { principal: Principal; log: string; requests: readonly RequestView[] }) {
  const decides = isPermitted(principal.role, 'decide-approvals');
  return (
    <PageLayout title="Approvals" principal={principal} scripts={decides ? ['approvals-page'] : []}>
      <h1>Approval requests waiting in log {log}</h1>
      {decides ? (
        <section class="signer">
          <label>
            Your signer key (<code>PRIVATE+KEY+…</code>, the file <code>agenttrail keys init --key FILE</code> made). It stays in this page: only the signature is sent.
            <input type="password" id="signer-key" autocomplete="off" spellcheck={false} />
          </label>
        </section>
      ) : (
        <p class="muted">Only approvers decide; a reviewer's token reads the queue.</p>
      )}
      {requests.length === 0 ? <p id="no-requests">No approval request is waiting.</p> : null}
      {requests.map((request) => (
        <article class="request" id={`request-${request.id}`} data-request={request.id}>
          <h2>
            {agentLabel(request.agent)} calls {request.server ?? '?'}/{request.tool ?? '?'}
          </h2>
          <table>
            <tbody>
              <tr>
                <th>Request</th>
                <td>
                  <code>{request.id}</code> (entry {request.index}, {request.time})
                </td>
              </tr>
              <tr>
                <th>Arguments</th>
                <td>
                  <pre>{JSON.stringify(request.arguments, null, 2)}</pre>
                </td>
              </tr>
              <tr>
                <th>Rule</th>
                <td>
                  {request.rule}: needs {request.count} of {request.approvers.join(', ')}; approved so far by {request.approvedBy.join(', ') || 'nobody'}
                </td>
              </tr>
              <tr>
                <th>Expires</th>
                <td>{request.expires}</td>
              </tr>
            </tbody>
          </table>
          {decides ? (
            <form class="decision" data-statement={JSON.stringify(request.statement)}>
              <label>
                Reason (optional, signed with the decision)
                <input name="reason" autocomplete="off" />
              </label>
              <button type="submit" name="decision" value="approve">
                Approve
              </button>
              <button type="submit" name="decision" value="deny">
                Deny
              </button>
              <output role="status" />
            </form>
          ) : null}
        </article>
      ))}
    </PageLayout>
  );
}
