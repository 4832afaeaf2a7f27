/**
 * Writes one JSON document whose last member is a list that is read as it is written: the head's
 * members first, then each item on a line of its own, so `--json` output of a long list never
 * holds the list in memory and still parses as one document.
 */
export async function writeJsonDocument(
  head: Record<string, unknown>,
  listName: string,
  items: AsyncIterable<unknown>,
  write: (chunk: string) => Promise<void>,
): Promise<number> {
  const members = Object.entries(head).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},\n`);
  await write(`{\n${members.join('')}  ${JSON.stringify(listName)}: [`);
  let count = 0;
  for await (const item of items) {
    await write(`${count === 0 ? '' : ','}\n    ${JSON.stringify(item)}`);
    count += 1;
  }
  await write(`${count === 0 ? '' : '\n  '}]\n}\n`);
  return count;
}
