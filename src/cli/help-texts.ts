export const MAIN_HELP = `agenttrail — an audit gateway for MCP: agents talk to it instead of their tool servers;
it forwards everything and records every exchange in a libSQL log.

Usage:
  agenttrail serve [--config FILE] [--db URL] [--host H] [--port N]
  agenttrail wrap  [--config FILE] [--db URL] [--name NAME] -- COMMAND [ARG...]
  agenttrail <command> --help
  agenttrail --version

Commands:
  serve   Serve MCP over Streamable HTTP, fronting the servers in the config file.
  wrap    Stand in for one stdio MCP server: a drop-in replacement for its command line.

Exit codes: 0 success, 2 usage, config or I/O error (a one-line reason on stderr).
`;

const DB_OPTION = `  --db URL          The audit database: file:PATH, http(s)://, libsql://. Default: $AGENTTRAIL_DB,
                    then the config's log.db, then file:agenttrail.db. $AGENTTRAIL_DB_AUTH_TOKEN
                    authenticates to a remote database.`;

export const SERVE_HELP = `Usage: agenttrail serve [--config FILE] [--db URL] [--host H] [--port N]

Serves MCP over Streamable HTTP at http://HOST:PORT/mcp (both MCP 2025-11-25 sessions and
2026-07-28 stateless requests), fronting every server in the config file. Tool and prompt names
become <server>__<name>. Every request and its outcome is recorded before and after it runs;
if the log cannot be written, the call is refused.

Options:
  --config FILE     The config file (YAML). Default: agenttrail.yaml in the current folder.
${DB_OPTION}
  --host H          Interface to bind. Default: the config's listen.host, else 127.0.0.1.
  --port N          TCP port (0 picks a free one). Default: the config's listen.port, else 8787.
  -h, --help        Show this help.

SIGINT or SIGTERM stops accepting requests, lets in-flight calls finish and flushes the log.
`;

export const WRAP_HELP = `Usage: agenttrail wrap [--config FILE] [--db URL] [--name NAME] -- COMMAND [ARG...]

Starts COMMAND as a stdio MCP server and speaks MCP on this process's stdin/stdout in its place,
recording every exchange. Put it in front of the server command in a desktop client's config:
  "command": "npx", "args": ["-y", "agenttrail", "wrap", "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/some/dir"]
Tool, prompt and resource names stay exactly as the server gives them.

Options:
  --config FILE     A config file for the log settings (log.db, log.origin). Optional.
${DB_OPTION}
  --name NAME       The server's name in the log. Default: derived from COMMAND's package or file name.
  -h, --help        Show this help.
`;
