// The session page's script: opens the call a timeline bar links to, and runs the verification
// panel, whose checks (proof-check.ts) run here, in the reader's browser.
import type { ProofMaterial } from '../proof-material.js';
import { checkProofMaterial } from './proof-check.js';

function openLinkedDetail(): void {
  const target = location.hash === '' ? null : document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target instanceof HTMLDetailsElement) target.open = true;
}

async function verifySelected(form: HTMLFormElement): Promise<void> {
  const summary = document.getElementById('verification-summary')!;
  const results = document.getElementById('verification-results')!;
  const selected = [...form.elements]
    .filter((element): element is HTMLInputElement => element instanceof HTMLInputElement && element.name === 'entry' && element.checked)
    .map((element) => Number(element.value));
  results.replaceChildren();
  if (selected.length === 0) {
    summary.textContent = 'Select the entries to verify.';
    return;
  }
  summary.textContent = `Verifying ${selected.length} entries…`;
  const response = await fetch(`/ui/proofs?entries=${selected.join(',')}`, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as ProofMaterial | { error: string };
  if ('error' in body) {
    summary.textContent = `The gateway sent no proofs: ${body.error}`;
    summary.dataset['status'] = 'failed';
    return;
  }
  const key = (form.elements.namedItem('key') as HTMLInputElement).value;
  const report = checkProofMaterial(body, key, selected);
  const failed = report.entries.filter((entry) => entry.status === 'failed').length;
  const verified = report.entries.filter((entry) => entry.status === 'ok').length;
  const checkpointLine = document.createElement('li');
  checkpointLine.dataset['status'] = report.checkpoint.ok ? 'ok' : 'failed';
  checkpointLine.textContent = report.checkpoint.message;
  results.append(
    checkpointLine,
    ...report.entries.map((entry) => {
      const line = document.createElement('li');
      line.dataset['status'] = entry.status;
      line.dataset['entry'] = String(entry.index);
      line.textContent = entry.message;
      return line;
    }),
  );
  const ok = report.checkpoint.ok && failed === 0;
  summary.dataset['status'] = ok ? 'ok' : 'failed';
  summary.textContent = ok
    ? `OK: ${verified} of ${selected.length} entries verified in this browser against the signed checkpoint${verified < selected.length ? ' (the others could not be checked)' : ''}.`
    : `FAILED: ${report.checkpoint.ok ? `${failed} of ${selected.length} entries do not match the signed checkpoint` : 'the checkpoint is not signed by that key'}.`;
}

addEventListener('hashchange', openLinkedDetail);
openLinkedDetail();
const form = document.getElementById('verification');
if (form instanceof HTMLFormElement) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    verifySelected(form).catch((error: unknown) => {
      document.getElementById('verification-summary')!.textContent = `Verification stopped: ${error instanceof Error ? error.message : String(error)}`;
    });
  });
}
