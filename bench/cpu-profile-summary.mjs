// Where a process's main thread spent its time, from a V8 .cpuprofile (node --cpu-prof): self time
// per function and per module, restricted to a window of the run. V8 stamps samples with the
// system's monotonic clock in microseconds, the clock process.hrtime reads in any process here, so
// a window measured by the process that drove the load selects the samples inside it.

// Pseudo-frames V8 adds: time outside JavaScript.
const IDLE = '(idle)';

/** The module a frame belongs to: an npm package, a file of ours, a Node internal, or V8's own. */
export function moduleOf({ url, functionName }) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (packageMatch) return packageMatch[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const ours = /\/dist\/(.+)\.js$/.exec(url);
  if (ours) return `agenttrail ${ours[1]}`;
  return url.replace(/^file:\/\//, '');
}

const frameName = ({ functionName, url, lineNumber }) => {
  const where = url === '' ? '' : ` ${url.replace(/^file:\/\/.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
};

function topEntries(map, limit, calls) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => ({ name, ms: Math.round(micros / 100) / 10, usPerCall: Math.round((micros / calls) * 10) / 10 }));
}

/**
 * `profile` is a parsed .cpuprofile; `window` `{ startUs, endUs }` on the monotonic clock; `calls`
 * the calls made in it. Returns the busy (non-idle) main-thread time per call and the top
 * functions and modules by self time.
 */
export function summariseCpuProfile(profile, { startUs, endUs }, calls, limit = 20) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map();
  const byModule = new Map();
  let busyUs = 0;
  let sampledUs = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i];
    // A sample's time is attributed to the frame that was running when it was taken; its share is
    // the gap to the next sample.
    const share = (profile.timeDeltas[i + 1] ?? 0);
    if (time < startUs || time > endUs) continue;
    const frame = nodes.get(profile.samples[i]).callFrame;
    sampledUs += share;
    if (frame.functionName === IDLE) continue;
    busyUs += share;
    const fn = frameName(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + share);
    const module = moduleOf(frame);
    byModule.set(module, (byModule.get(module) ?? 0) + share);
  }
  return {
    windowMs: Math.round((endUs - startUs) / 1000),
    sampledMs: Math.round(sampledUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    calls,
    busyUsPerCall: Math.round((busyUs / calls) * 10) / 10,
    modules: topEntries(byModule, limit, calls),
    functions: topEntries(byFunction, limit, calls),
  };
}
