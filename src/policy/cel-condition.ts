import { Environment } from '@marcbachmann/cel-js';
import type { AgentIdentity } from '../ledger/entry.js';
import { isWithinFolder } from './folder-containment.js';

/** What a rule's `when` condition sees of one call. */
export interface ConditionInput {
  /** The agent as recorded: `agent.id` is the authenticated name, absent for anonymous agents. */
  readonly agent: AgentIdentity;
  readonly server: string;
  /** The upstream's own tool name; empty for resource reads. */
  readonly tool: string;
  /** The resource URI; empty for tool calls. */
  readonly resource: string;
  /** The tool's arguments (`{uri}` for a resource read). JSON numbers are CEL doubles. */
  readonly args: Record<string, unknown>;
  /** The tool's annotations from the upstream's tools/list, with the MCP defaults filled in. */
  readonly annotations: Record<string, unknown>;
}

// Every variable is declared, so that a misspelt one (`arg.path`) is an error when the policy
// loads rather than a condition that fails on every call.
const environment = new Environment({ unlistedVariablesAreDyn: false })
  .registerVariable('agent', 'map<string, dyn>', { description: 'The calling agent: id, subject, auth, transport, client.' })
  .registerVariable('server', 'string', { description: 'The upstream server, as named in the config.' })
  .registerVariable('tool', 'string', { description: "The upstream's own tool name; empty for resource reads." })
  .registerVariable('resource', 'string', { description: 'The resource URI; empty for tool calls.' })
  .registerVariable('args', 'map<string, dyn>', { description: "The call's arguments." })
  .registerVariable('annotations', 'map<string, dyn>', { description: 'readOnlyHint, destructiveHint, idempotentHint, openWorldHint.' })
  .registerFunction('isWithin(string, string): bool', isWithinFolder, {
    description: 'Whether a POSIX path, once . and .. are resolved, is the folder or inside it. A relative path never is.',
  });

/** A compiled `when` condition. */
export interface Condition {
  readonly text: string;
  /** True when the rule applies; throws ConditionError when the condition cannot be evaluated. */
  holds(input: ConditionInput): boolean;
}

/** A condition that failed on a call: a missing argument, a value of the wrong type. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError';
}

/** Compiles and type-checks a CEL condition; a string is what is wrong with it. */
export function compileCondition(text: string): Condition | string {
  const checked = environment.check(text);
  if (!checked.valid) return `invalid CEL: ${describeCelError(checked.error)}`;
  if (checked.type !== 'bool' && checked.type !== 'dyn') return `the condition must be true or false, but it gives a value of type ${checked.type}`;
  const evaluate = environment.parse(text);
  return {
    text,
    holds(input) {
      let value: unknown;
      try {
        value = evaluate({ ...input });
      } catch (error) {
        throw new ConditionError(describeCelError(error));
      }
      if (typeof value !== 'boolean') throw new ConditionError(`gave ${describeValue(value)} instead of true or false`);
      return value;
    },
  };
}

/** cel-js messages quote the expression over several lines; its summary and offset say the same on one. */
function describeCelError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { summary, range } = error as { summary?: unknown; range?: { start?: unknown } };
  const message = typeof summary === 'string' ? summary : (error.message.split('\n', 1)[0] ?? error.message);
  return typeof range?.start === 'number' ? `${message} (at character ${range.start + 1})` : message;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `the number ${value}`;
  if (typeof value === 'string') return 'a string';
  return typeof value === 'object' ? 'a list or map' : String(value);
}
