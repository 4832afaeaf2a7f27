import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { SecretSourceReader } from '../credentials/credential-sources.js';

// A vault CLI prints a token, not a file; more than this is a command printing the wrong thing.
const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024;

/** Secrets from this process's environment, files, and commands run without a shell. */
export function nodeSecretReader(env: NodeJS.ProcessEnv): SecretSourceReader {
  return {
    env: (name) => env[name],
    readFile: async (path) => {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'the file is not readable (permission denied)' : (error as Error).message);
      }
    },
    runCommand: (command, timeoutMs) =>
      new Promise((resolve, reject) => {
        const [program, ...args] = command;
        execFile(program!, args, { env, timeout: timeoutMs, maxBuffer: MAX_COMMAND_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
          if (error === null) return resolve(stdout);
          // Its error output helps the operator fix it; its standard output may hold part of the secret.
          const said = stderr.trim().split('\n')[0]?.slice(0, 200);
          const why =
            (error as { killed?: boolean }).killed === true && error.signal === 'SIGTERM'
              ? `did not finish within ${timeoutMs} ms`
              : (error as NodeJS.ErrnoException).code === 'ENOENT'
                ? 'the program was not found'
                : (error as NodeJS.ErrnoException).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'
                  ? `printed more than ${MAX_COMMAND_OUTPUT_BYTES} bytes`
                  : `exited with ${error.code === undefined || error.code === null ? `signal ${error.signal}` : `code ${error.code}`}`;
          reject(new Error(`the command ${why}${said ? ` (it said: ${said})` : ''}`));
        });
      }),
  };
}
