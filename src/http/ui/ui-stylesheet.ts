/**
 * The UI's one stylesheet, served at /ui/assets/ui.css (the pages carry no inline style, so the
 * Content-Security-Policy can forbid it). The outcome colours are the timeline's legend.
 */
export const UI_STYLESHEET = `
:root { --ok: #2e7d32; --error: #c62828; --timeout: #ef6c00; --denied: #6a1b9a; --cancelled: #757575; --pending: #1565c0; --line: #d0d4da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2430; color: #fff; }
header a { color: #fff; }
header .brand { font-weight: 600; margin-right: auto; }
header form { display: inline; margin: 0; }
main { padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 20px; margin: 8px 0 12px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #eef0f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, monospace; }
code { font: 12px ui-monospace, monospace; }
form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin-bottom: 16px; }
form.filters label, form.login label, .decision label { display: flex; flex-direction: column; font-size: 12px; gap: 2px; }
input, select, button { font: inherit; padding: 4px 8px; }
.problem { color: var(--error); font-weight: 600; }
.muted { color: #5b6472; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; background: #fff; padding: 12px; }
.timeline { background: #fff; border: 1px solid var(--line); width: 100%; height: auto; }
.timeline .axis { stroke: var(--line); }
.timeline text { font-size: 11px; fill: #5b6472; }
.legend { display: flex; gap: 16px; margin: 6px 0; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; background: var(--swatch); }
.outcome-ok { fill: var(--ok); --swatch: var(--ok); }
.outcome-error { fill: var(--error); --swatch: var(--error); }
.outcome-timeout { fill: var(--timeout); --swatch: var(--timeout); }
.outcome-denied { fill: var(--denied); --swatch: var(--denied); }
.outcome-cancelled { fill: var(--cancelled); --swatch: var(--cancelled); }
.outcome-pending { fill: var(--pending); --swatch: var(--pending); }
span[class^=outcome-] { font-weight: 600; color: var(--swatch); }
.legend span[class^=outcome-] { color: inherit; }
details.item { background: #fff; border: 1px solid var(--line); margin: 4px 0; padding: 6px 10px; }
details.item[open] { border-color: #8a93a3; }
details.item summary { cursor: pointer; }
details.item dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0 0; }
details.item dt { font-weight: 600; }
details.item dd { margin: 0; }
.verification { background: #fff; border: 1px solid var(--line); padding: 12px; margin-top: 24px; }
.verification input[type=text] { width: 100%; font: 12px ui-monospace, monospace; }
.verification ul { list-style: none; padding: 0; }
.verification li[data-status=ok]::before { content: "✔ "; color: var(--ok); }
.verification li[data-status=failed]::before { content: "✘ "; color: var(--error); }
.verification li[data-status=unchecked]::before { content: "– "; color: var(--cancelled); }
.verification li[data-status=failed] { color: var(--error); }
.decision { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
.decision output { flex-basis: 100%; }
.decision output[data-status=ok], #verification-summary[data-status=ok] { color: var(--ok); font-weight: 600; }
.decision output[data-status=failed], #verification-summary[data-status=failed] { color: var(--error); font-weight: 600; }
.signer { background: #fff; border: 1px solid var(--line); padding: 12px; margin-bottom: 16px; }
.signer input { width: 100%; font: 12px ui-monospace, monospace; }
form.login { display: flex; flex-direction: column; gap: 12px; max-width: 520px; background: #fff; padding: 16px; border: 1px solid var(--line); }
`;
