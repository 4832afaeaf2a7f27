/** The behaviour hints a condition sees as `annotations`. */
export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/** A resource read changes nothing, whatever the server says about its tools. */
export const RESOURCE_READ_ANNOTATIONS: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/**
 * A tool's annotations as its upstream listed them, with the defaults the MCP specification gives
 * an unannotated tool: not read-only, destructive, not idempotent, open-world. So a tool that says
 * nothing (or is not listed at all) is treated as the most dangerous kind, and a rule on
 * `annotations.destructiveHint` holds it. They are hints from the upstream, not guarantees: a
 * policy that trusts them trusts the upstream server.
 */
export function toolAnnotations(listed: unknown): ToolAnnotations {
  const hints = typeof listed === 'object' && listed !== null ? (listed as Record<string, unknown>) : {};
  const flag = (name: string): boolean | undefined => (typeof hints[name] === 'boolean' ? hints[name] : undefined);
  const readOnlyHint = flag('readOnlyHint') ?? false;
  return {
    readOnlyHint,
    // The specification: destructiveHint is meaningful only when the tool is not read-only.
    destructiveHint: readOnlyHint ? false : (flag('destructiveHint') ?? true),
    idempotentHint: flag('idempotentHint') ?? false,
    openWorldHint: flag('openWorldHint') ?? true,
  };
}
