import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { z } from 'zod';

/**
 * A list through the gateway walks the upstreams in config order, one upstream page per gateway page.
 * The cursor says which upstream comes next and that upstream's own cursor, so paging works across
 * several upstreams without the gateway holding state between pages.
 */
const ListPositionSchema = z.object({ server: z.string(), cursor: z.string().optional() });
export type ListPosition = z.infer<typeof ListPositionSchema>;

export function encodeListCursor(position: ListPosition): string {
  const bytes = new TextEncoder().encode(JSON.stringify(position));
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export function decodeListCursor(cursor: string): ListPosition {
  try {
    const binary = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    return ListPositionSchema.parse(JSON.parse(json));
  } catch {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid cursor '${cursor.slice(0, 80)}': pass back a nextCursor this gateway returned`);
  }
}
