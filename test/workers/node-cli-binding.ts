// A service binding of the Workers suite whose handler runs in Node: the Worker's tests ask it to
// run the built `agenttrail` command, as an auditor would on their own machine (`verify --db URL`).
import { z } from 'zod';
import { runAgenttrail } from '../support/agenttrail-command.js';

const CommandSchema = z.object({ args: z.array(z.string()) });

/** POST {"args": [...]} → {"code", "stdout", "stderr"} of `agenttrail ARGS`. */
export async function runAgenttrailForWorker(request: Request): Promise<Response> {
  const { args } = CommandSchema.parse(await request.json());
  return Response.json(await runAgenttrail(args));
}
