// The headline of the gateway figures: AgentTrail against the same upstream called directly and
// against the peer proxies, as ratios measured in the same interleaved run, each held to the goal
// issue 4 sets for it (never relaxed here: a goal not met is reported as not met).

const byId = (scenarios, id) => {
  const scenario = scenarios.find((s) => s.id === id);
  if (!scenario) throw new Error(`no scenario '${id}' in the results`);
  return scenario;
};
const round = (value, digits) => Number(value.toFixed(digits));

/**
 * `[{ figure, value, unit, goal, met, context }]`; `goal` is a sentence, `met` true/false, or null
 * where a figure has no goal of its own and is there for context.
 */
export function compareScenarios(scenarios) {
  const s = (id) => byId(scenarios, id);
  const directHttp = s('direct-http');
  const directStdio = s('direct-stdio');
  const servedHttp = s('agenttrail-http-http');
  const servedStdio = s('agenttrail-http-stdio');
  const wrap = s('agenttrail-wrap');
  const peers = [s('supergateway'), s('mcp-proxy')];
  const betterPeerAt = (c) => peers.reduce((best, peer) => (peer[c].callsPerSecond > best[c].callsPerSecond ? peer : best));
  const cheaperPeer = peers.reduce((best, peer) => (peer.c64.gatewayCpuMsPerCall < best.c64.gatewayCpuMsPerCall ? peer : best));

  const rows = [];
  const add = (figure, value, unit, goal, met, context) => rows.push({ figure, value, unit, goal, met, context });

  for (const gateway of [servedHttp, servedStdio, wrap]) {
    const cpu = gateway.c64.gatewayCpuMsPerCall;
    add(`gateway CPU per call, c=64: ${gateway.label}`, cpu, 'ms', '≤ 0.5 ms', cpu <= 0.5,
      `peers ${peers.map((p) => `${p.id} ${p.c64.gatewayCpuMsPerCall}`).join(', ')} ms; ${round(cpu / cheaperPeer.c64.gatewayCpuMsPerCall, 2)}× the cheaper peer`);
  }

  const addedMedian = (through, direct) => round(through.c1.p50Ms - direct.c1.p50Ms, 3);
  add('added median latency, c=1: serve → echo vs direct HTTP', addedMedian(servedHttp, directHttp), 'ms', '< 0.5 ms', addedMedian(servedHttp, directHttp) < 0.5,
    `p50 ${servedHttp.c1.p50Ms} vs ${directHttp.c1.p50Ms} ms`);
  for (const through of [servedStdio, wrap, ...peers]) {
    add(`added median latency, c=1: ${through.label} vs direct stdio`, addedMedian(through, directStdio), 'ms', null, null,
      `vs direct HTTP: ${addedMedian(through, directHttp)} ms`);
  }

  const ratio = (a, b, c) => round(a[c].callsPerSecond / b[c].callsPerSecond, 2);
  for (const c of ['c64', 'c16']) {
    const goalApplies = c === 'c64';
    const n = c.slice(1);
    add(`throughput ratio, c=${n}: serve → echo / direct HTTP`, ratio(servedHttp, directHttp, c), '×', goalApplies ? '≥ 0.9×' : null,
      goalApplies ? ratio(servedHttp, directHttp, c) >= 0.9 : null, `${servedHttp[c].callsPerSecond} vs ${directHttp[c].callsPerSecond} calls/s`);
    add(`throughput ratio, c=${n}: serve → everything / direct stdio`, ratio(servedStdio, directStdio, c), '×', goalApplies ? '≥ 0.9×' : null,
      goalApplies ? ratio(servedStdio, directStdio, c) >= 0.9 : null, `${servedStdio[c].callsPerSecond} vs ${directStdio[c].callsPerSecond} calls/s`);
    add(`throughput ratio, c=${n}: wrap / direct stdio`, ratio(wrap, directStdio, c), '×', goalApplies ? '≥ 0.9×' : null,
      goalApplies ? ratio(wrap, directStdio, c) >= 0.9 : null, `${wrap[c].callsPerSecond} vs ${directStdio[c].callsPerSecond} calls/s`);
    const peer = betterPeerAt(c);
    add(`throughput ratio, c=${n}: serve → everything / better peer`, ratio(servedStdio, peer, c), '×', goalApplies ? '≥ 1.2×' : null,
      goalApplies ? ratio(servedStdio, peer, c) >= 1.2 : null, `better peer ${peer.id}: ${peer[c].callsPerSecond} calls/s`);
  }
  return rows;
}
