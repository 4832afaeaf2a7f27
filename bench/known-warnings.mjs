// The SDK's Streamable HTTP client passes one long-lived AbortSignal to every fetch, and undici
// keeps an abort listener on it per request until the request is garbage-collected, warning on
// every call past 1,500 listeners (nodejs/node#52635, nodejs/undici#3157). Under a benchmark's load
// that is a line per call on stderr; this drops that one warning and prints every other.
export function silenceAbortListenerWarnings() {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'MaxListenersExceededWarning') process.stderr.write(`${warning.stack ?? `${warning.name}: ${warning.message}`}\n`);
  });
}
