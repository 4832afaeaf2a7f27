/** Runs `stop` once, on the first SIGINT or SIGTERM; a second signal exits at once. */
export function onShutdownSignal(stop: () => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`agenttrail: ${signal} again, exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
