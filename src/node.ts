#!/usr/bin/env node
// The Node entry of `agenttrail`; the core it drives is runtime-neutral (see src/worker.ts later).
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2), process.env);
