#!/usr/bin/env node
// The Node entry of `agenttrail`; the core it drives is runtime-neutral (see src/worker.ts later).
import { main } from './cli/main.js';
import { installLedgerPrimitives } from './ledger/primitives.js';
import { NODE_PRIMITIVES } from './node-primitives.js';

installLedgerPrimitives(NODE_PRIMITIVES);
process.exitCode = await main(process.argv.slice(2), process.env);
