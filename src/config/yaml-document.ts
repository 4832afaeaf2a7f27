import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatFieldPath } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { locateFieldPath } from './yaml-source-positions.js';

/** A YAML file read into plain values, with a way to say where a field of it is wrong. */
export interface YamlDocument {
  /** The file's value; an empty file (or one of comments only) is an empty mapping. */
  readonly value: unknown;
  /** An issue about the field at `path`, located at its key in the file. */
  issueAt(path: readonly PropertyKey[], reason: string): ConfigIssue;
}

/**
 * Parses YAML text (JSON is YAML too). Throws `ConfigError` naming `fileName`, line and column for
 * syntax errors and alias explosions. Error messages never quote the source: it may hold a secret.
 * Runtime-neutral: no file system access.
 */
export function readYamlDocument(text: string, fileName: string): YamlDocument {
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending source line, which may hold a secret.
  const document = parseDocument(text, { lineCounter, prettyErrors: false });

  const issueAt = (path: readonly PropertyKey[], reason: string): ConfigIssue => ({
    file: fileName,
    ...locateFieldPath(document, lineCounter, path),
    path: formatFieldPath(path),
    reason,
  });

  if (document.errors.length > 0) {
    throw ConfigError.fromIssues(
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { file: fileName, line, column: col, path: '', reason: `invalid YAML: ${firstLine(error.message)}` };
      }),
    );
  }

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Only alias explosions get here; the message names no values.
    throw ConfigError.fromIssues([issueAt([], `invalid YAML: ${firstLine(String((error as Error).message))}`)]);
  }
  return { value: value ?? {}, issueAt };
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
