import { z } from 'zod';
import type { UpstreamConnection } from './upstream-connection.js';

const ToolsPageSchema = z.looseObject({
  tools: z.array(z.looseObject({ name: z.string(), annotations: z.unknown().optional() })),
  nextCursor: z.string().optional(),
});

export type ListedTool = z.infer<typeof ToolsPageSchema>['tools'][number];

/** A server that pages forever must not keep a call waiting. */
const MAX_PAGES = 50;

/**
 * The tools an upstream lists, page by page, asked by the gateway itself (not recorded: it is no
 * agent's request). Stops early when the caller has what it wanted; throws when a page cannot be
 * read or the server pages on past MAX_PAGES.
 */
export async function* upstreamTools(upstream: UpstreamConnection): AsyncGenerator<ListedTool> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { tools, nextCursor } = ToolsPageSchema.parse(await upstream.request('tools/list', cursor === undefined ? undefined : { cursor }));
    yield* tools;
    if (nextCursor === undefined) return;
    cursor = nextCursor;
  }
  throw new Error(`the upstream's tool list goes on past ${MAX_PAGES} pages`);
}
