// The approvals page's script: signs an approver's decision here, with their own Ed25519 key, over
// the statement that names the stored request (src/approvals/approval-statement.ts), and sends the
// gateway the signature, never the key. The gateway checks it as it checks `agenttrail approvals`.
import type { StatementBase } from '../../../approvals/approval-desk.js';
import type { ApprovalStatement } from '../../../approvals/approval-statement.js';
import { encodeBase64 } from '../../../ledger/base64.js';
import { canonicalBytes } from '../../../ledger/canonical-json.js';
import { parseSignerKey } from '../../../ledger/note-keys.js';

async function decide(form: HTMLFormElement, decision: ApprovalStatement['decision']): Promise<string> {
  const signer = parseSignerKey((document.getElementById('signer-key') as HTMLInputElement).value.trim());
  const reason = (form.elements.namedItem('reason') as HTMLInputElement).value.trim();
  const base = JSON.parse(form.dataset['statement']!) as StatementBase;
  const statement: ApprovalStatement = {
    ...base,
    decision,
    ...(reason === '' ? {} : { reason }),
    approver: signer.verifierKey,
    time: new Date().toISOString(),
  };
  const signature = encodeBase64(signer.sign(canonicalBytes(statement)));
  const response = await fetch(`/ui/approvals/${encodeURIComponent(base.request.id)}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ decision, ...(reason === '' ? {} : { reason }), time: statement.time, key: signer.verifierKey, signature }),
  });
  const answer = (await response.json()) as { message?: string; error?: string };
  if (!response.ok) throw new Error(answer.error ?? `the gateway answered ${response.status}`);
  return answer.message ?? 'recorded';
}

for (const form of document.querySelectorAll<HTMLFormElement>('form.decision')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const output = form.querySelector('output')!;
    const button = event.submitter as HTMLButtonElement | null;
    const decision = button?.value === 'deny' ? 'deny' : 'approve';
    output.textContent = 'Signing…';
    delete output.dataset['status'];
    decide(form, decision).then(
      (message) => {
        output.dataset['status'] = 'ok';
        output.textContent = message;
        for (const control of form.querySelectorAll('button, input')) (control as HTMLButtonElement | HTMLInputElement).disabled = true;
      },
      (error: unknown) => {
        output.dataset['status'] = 'failed';
        output.textContent = `Not recorded: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  });
}
