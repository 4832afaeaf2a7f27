export const MAIN_HELP = `agenttrail — an audit gateway for MCP: agents talk to it instead of their tool servers;
it forwards everything and records every exchange in a libSQL log.

Usage:
  agenttrail serve [--config FILE] [--db URL] [--key FILE] [--host H] [--port N]
  agenttrail wrap  [--config FILE] [--db URL] [--key FILE] [--name NAME] -- COMMAND [ARG...]
  agenttrail verify [--db URL] [--key VERIFIER_KEY]... [--witness-key KEY]... [--checkpoint FILE] [--log ORIGIN] [--json]
  agenttrail verify --bundle FILE --key VERIFIER_KEY... [--json]
  agenttrail sessions [--db URL] [--log ORIGIN] [--agent A] [--tool T] [--since ISO] [--until ISO] [--outcome O] [--json]
  agenttrail show  SESSION [--db URL] [--log ORIGIN] [--json]
  agenttrail replay SESSION --serve [--port N] [--db URL] [--log ORIGIN]
  agenttrail replay SESSION --rerun [--config FILE] [--allow-side-effects] [--db URL] [--key FILE] [--log ORIGIN] [--json]
  agenttrail search TEXT... [--db URL] [--log ORIGIN] [--limit N] [--json]
  agenttrail export --format bundle|jsonl|ocsf|otlp [--db URL] [--log ORIGIN] [--session ID] [--out FILE]
                   [--key VERIFIER_KEY]... [--endpoint URL] [--header 'NAME: VALUE']...
  agenttrail ingest FILE.jsonl [--source NAME] [--config FILE] [--db URL] [--key FILE] [--json]
  agenttrail prune [--config FILE] [--db URL] [--key FILE] [--older-than PERIOD] [--json]
  agenttrail keys  init | show | rotate [--key FILE] [--origin NAME] [--config FILE] [--db URL]
  agenttrail agents add NAME [--role ROLE] | list | suspend NAME | resume NAME | revoke NAME | rotate NAME
                   [--db URL] [--config FILE] [--key FILE] [--json]
  agenttrail policy check [DIR] | test [DIR] [--config FILE] [--default allow|deny] [--db URL] [--log ORIGIN] [--json]
  agenttrail approvals list | approve ID | deny ID [--key FILE] [--reason TEXT] [--config FILE] [--db URL] [--json]
  agenttrail credentials add NAME | rotate NAME | revoke NAME | list [--config FILE] [--db URL] [--key FILE] [--json]
  agenttrail <command> --help
  agenttrail --version

Commands:
  serve   Serve MCP over Streamable HTTP, fronting the servers in the config file.
  wrap    Stand in for one stdio MCP server: a drop-in replacement for its command line.
  verify  Check that the log is intact: every entry, the Merkle tree, every signed checkpoint;
          or check an evidence bundle with no database.
  sessions  List the recorded sessions: agent, start, duration, calls, denials, approvals, errors.
  show    A session's timeline: each call with its arguments, result, decision, approvals,
          credentials and duration.
  replay  Play a session back to an agent as an MCP server that answers with the recorded
          results, or run its recorded tool calls again through the gateway and compare.
  search  Find entries whose recorded payloads hold some words (full-text).
  export  Write a session's (or the whole log's) entries: an evidence bundle with inclusion
          proofs and the signed checkpoint that an auditor can check offline, JSON Lines, OCSF
          events for a SIEM, or OpenTelemetry traces to a collector.
  ingest  Append other systems' events (CI jobs, vaults, ...) to the log, beside the agents' calls;
          agenttrail serve also takes them at POST /v1/events and GitHub's at /v1/events/github.
  prune   Remove the payloads of entries older than the retention period; the log still verifies.
  keys    Create, show or rotate the key that signs the log's checkpoints.
  agents  Give agents, reviewers, approvers and admins their tokens; suspend, resume, revoke or
          rotate them. Every change is a ledger entry.
  policy  Check policy files and say what each rule does, or replay the recorded calls against
          them to see which would be decided differently.
  approvals  List the calls waiting for approval; approve or deny one, signed with your own key.
  credentials  Record when a delegated credential was provisioned and rotated (by fingerprint),
          or revoke it: a running gateway stops delegating it at once.

Exit codes: 0 success, 1 verification failed (policy test: some call would be decided
differently), 2 usage, config or I/O error (a one-line reason on stderr).
`;

const DB_OPTION = `  --db URL          The audit database: file:PATH, http(s)://, libsql://. Default: $AGENTTRAIL_DB,
                    then the config's log.db, then file:agenttrail.db. $AGENTTRAIL_DB_AUTH_TOKEN
                    authenticates to a remote database.`;

const KEY_OPTION = `  --key FILE        The gateway's signing key (C2SP signer key, mode 0600). Default:
                    $AGENTTRAIL_KEY, then the config's log.key, then ./agenttrail.key.`;

export const SERVE_HELP = `Usage: agenttrail serve [--config FILE] [--db URL] [--key FILE] [--host H] [--port N]

Serves MCP over Streamable HTTP at http://HOST:PORT/mcp (both MCP 2025-11-25 sessions and
2026-07-28 stateless requests), fronting every server in the config file. Tool and prompt names
become <server>__<name>. Every request and its outcome is recorded before and after it runs;
if the log cannot be written, the call is refused. Reviewers and approvers sign in to the web UI
at http://HOST:PORT/ui with their tokens (agenttrail agents add NAME --role reviewer|approver).

Options:
  --config FILE     The config file (YAML). Default: agenttrail.yaml in the current folder.
${DB_OPTION}
${KEY_OPTION}
                    Created on first run if it does not exist (the path is printed).
  --host H          Interface to bind. Default: the config's listen.host, else 127.0.0.1.
  --port N          TCP port (0 picks a free one). Default: the config's listen.port, else 8787.
  -h, --help        Show this help.

SIGINT or SIGTERM stops accepting requests, lets in-flight calls finish and flushes the log.
`;

export const WRAP_HELP = `Usage: agenttrail wrap [--config FILE] [--db URL] [--key FILE] [--name NAME] -- COMMAND [ARG...]

Starts COMMAND as a stdio MCP server and speaks MCP on this process's stdin/stdout in its place,
recording every exchange. Put it in front of the server command in a desktop client's config:
  "command": "npx", "args": ["-y", "agenttrail", "wrap", "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/some/dir"]
Tool, prompt and resource names stay exactly as the server gives them.

Options:
  --config FILE     A config file for the log settings (log.db, log.origin). Optional.
${DB_OPTION}
${KEY_OPTION}
                    Created on first run if it does not exist (the path is printed on stderr).
  --name NAME       The server's name in the log. Default: derived from COMMAND's package or file name.
  -h, --help        Show this help.
`;

export const VERIFY_HELP = `Usage: agenttrail verify [--db URL] [--key VERIFIER_KEY]... [--witness-key KEY]... [--checkpoint FILE]
                         [--log ORIGIN] [--json]
       agenttrail verify --bundle FILE --key VERIFIER_KEY... [--json]

Recomputes every log in the database from its stored rows: each entry's leaf hash from its signed
body (and the columns kept for queries against it), the RFC 6962 Merkle tree and its stored
tiles, and every C2SP checkpoint: its Ed25519 signature and that its root is the root of the
stored entries at its size (so consecutive checkpoints are consistent). Then the approvals: each
approval decision must carry its approver's Ed25519 signature over the stored request it names,
and each call that ran under an approval must have had enough distinct approvers, once. Reads
the log a page at a time; memory stays flat however long the log is.

Options:
${DB_OPTION}
  --key VERIFIER_KEY  A verifier key (name+keyid+base64, from agenttrail keys show) the checkpoints
                    must be signed by; repeat for several. A key rotation logged under a checkpoint
                    signed by a given key hands trust to the new key. Without --key, the key stored
                    with the log's first checkpoint is trusted (and the output says so).
  --witness-key KEY A witness's verifier key (c2sp.org/tlog-witness; config log.witnesses): every
                    stored cosignature of it must be valid, and it must have cosigned a checkpoint.
                    Repeat for several.
  --checkpoint FILE A signed checkpoint you kept earlier: the log must contain it (a rolled-back or
                    forked database fails).
  --log ORIGIN      Verify only this log.
  --bundle FILE     Check an evidence bundle (agenttrail export --format bundle) instead of a
                    database: every entry's leaf hash and its c2sp.org/tlog-proof inclusion proof
                    against the bundle's checkpoint, the checkpoint's signature by a --key (required),
                    and that each entry is the one the bundle claims (its index and session).
                    The format is described in docs/evidence-bundle.md.
  --json            Print one JSON document: {ok, database, logs: [...], failure}, or with --bundle
                    {ok, bundle, summary, failure}.
  -h, --help        Show this help.

Exit codes: 0 every log (or the bundle) holds, 1 something is wrong (the first bad entry, checkpoint or tile is
named), 2 usage or I/O error.
`;

export const KEYS_HELP = `Usage: agenttrail keys init | show | rotate [--key FILE] [--origin NAME] [--config FILE] [--db URL]

  init    Create the gateway's signing key (a C2SP signer key, file mode 0600) and print its
          verifier key. Never overwrites an existing key file.
  show    Print the verifier key (name+keyid+base64) that verifiers pass to agenttrail verify --key.
  rotate  Make a new key, log the rotation as a key.rotated entry covered by a checkpoint that the
          old key signs, then replace the key file. Stop the gateway first: a running gateway
          keeps signing with the key it loaded.

Options:
${KEY_OPTION}
  --origin NAME     The key's name (init); the log's origin (rotate). Default: the config's
                    log.origin, else agenttrail.local/gateway.
  --config FILE     A config file to take log.key, log.origin and log.db from.
${DB_OPTION}
  -h, --help        Show this help.
`;

export const EXPORT_HELP = `Usage: agenttrail export --format bundle [--db URL] [--log ORIGIN] [--session ID] [--key VERIFIER_KEY]... [--out FILE]
       agenttrail export --format jsonl|ocsf [--db URL] [--log ORIGIN] [--session ID] [--out FILE]
       agenttrail export --format otlp [--endpoint URL] [--header 'NAME: VALUE']... [--db URL] [--log ORIGIN] [--session ID]

Exports the entries of one session (or, without --session, of the whole log), read and written
a page at a time, so memory stays flat however long the log:

  bundle  An evidence bundle: each entry's byte-exact stored body with its c2sp.org/tlog-proof@v1
          inclusion proof against the log's latest signed checkpoint, which the bundle carries
          with its signatures. Anyone holding the log's verifier key can check it with agenttrail
          verify --bundle, or with other tools (docs/evidence-bundle.md). The bundle is checked as
          it is written: a log whose stored entries do not match its checkpoint is not exported.
  jsonl   JSON Lines: each entry's stored body, its RFC 8785 canonical JSON, one per line.
  ocsf    JSON Lines of OCSF 1.3 API Activity events (class 6003) for a SIEM: one per call (its
          request with its outcome, policy decision, approvals and credentials) and one per entry
          outside a call; metadata.uid is LOG/INDEX of the entry (docs/review.md).
  otlp    OpenTelemetry traces over OTLP/HTTP (JSON) to a collector: a session is a trace, each
          call a span (attributes after the MCP semantic conventions), decisions, approvals and
          credentials span events. Ids derive from the log, so a second export repeats the ids.

Options:
  --format FORMAT   bundle, jsonl, ocsf or otlp (required).
${DB_OPTION}
  --log ORIGIN      The log to export. Default: the database's only log, or the only one that has
                    the session.
  --session ID      Export only this session's entries.
  --key VERIFIER_KEY  (bundle) A verifier key the checkpoint must be signed by; repeat for several.
                    Default: the key stored with the checkpoint.
  --out FILE        (bundle, jsonl, ocsf) Where to write (replaced once complete). Default: stdout,
                    with the summary on stderr.
  --endpoint URL    (otlp) The collector, e.g. http://localhost:4318 (/v1/traces is added unless
                    the URL ends with it). Default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is,
                    else $OTEL_EXPORTER_OTLP_ENDPOINT.
  --header 'NAME: VALUE'  (otlp) A header for the collector, e.g. authorization; repeat for several.
                    Added to those in $OTEL_EXPORTER_OTLP_HEADERS (name=value,...).
  -h, --help        Show this help.

Exit codes: 0 written, 1 (bundle) the stored log does not match its signed checkpoint, 2 usage or
I/O error (such as an unknown session, or a collector that refuses the spans).
`;

export const AGENTS_HELP = `Usage: agenttrail agents add NAME [--role ROLE] | list | suspend NAME | resume NAME | revoke NAME | rotate NAME
                         [--db URL] [--config FILE] [--key FILE] [--json]

The principals that may call the gateway, each with a role and a bearer token of its own:
  agent     calls tools through the MCP endpoint
  reviewer  reads the log, sessions and exports
  approver  decides approval requests
  admin     manages config and keys
  ingest    another system (CI, a vault) that appends its events to the log (POST /v1/events)
A role grants only its own part: an agent's token can never approve or read the log.

  add NAME     Create a principal (--role, default agent) and print its token (agt_...) on stdout.
               The token is shown this once; the database keeps only its SHA-256 hash.
  list         Name, role, status and last change of every principal (never tokens or hashes).
  suspend NAME Refuse the principal's token from the gateway's next request on.
  resume NAME  Accept a suspended principal's token again.
  revoke NAME  Refuse the principal for good: it cannot be resumed or rotated, and its name is
               never given out again.
  rotate NAME  Replace the token (printed once); the old one is refused from then on. A suspended
               principal stays suspended.

Each change is first recorded in the log (agent.added, agent.suspended, agent.resumed,
agent.revoked, agent.rotated, with the name, role and status, never the token), and only then
made: if the log cannot be written, nothing changes.

NAME: 1 to 64 lower-case letters, digits, ".", "_", "-" or "@", starting with a letter or digit.

Options:
  --role ROLE       agent, reviewer, approver, admin or ingest (add only). Default: agent.
${DB_OPTION}
  --config FILE     A config file to take log.db, log.key and log.origin from: pass the gateway's,
                    so that the changes are recorded in its log.
${KEY_OPTION}
                    Created if it does not exist (the path is printed on stderr).
  --json            Print one JSON document: {action, principal, entry, token?} or {principals}.
  -h, --help        Show this help.

Exit codes: 0 done, 2 usage, config or I/O error, or a change that does not apply (an unknown
name, a revoked principal), with a one-line reason on stderr.
`;

export const POLICY_HELP = `Usage: agenttrail policy check [DIR] [--config FILE] [--default allow|deny] [--json]
       agenttrail policy test  [DIR] [--config FILE] [--default allow|deny] [--db URL] [--log ORIGIN] [--json]

Policy files (*.yaml, *.yml in a folder, applied in file-name order) decide each tool call and
resource read: allow, deny (with a reason the agent reads), require_approval or limit. See
policies/README.md for the rules and their CEL conditions.

  check   Validate every file (problems are listed as FILE:LINE:COL: FIELD: REASON) and say what
          each rule does, in order, with the policy version (SHA-256 of the files).
  test    Decide the calls recorded in the log again with these files, in log order and on the
          log's clock (so rate limits count as they would have), and list the calls that would be
          decided differently: a table, or with --json one document {log, policyVersion, calls,
          differences}. Calls recorded without a policy count as allowed. Arguments are the
          recorded ones, so a condition on a secret the log redacted sees the redaction marker.

DIR defaults to the config's policies.dir, else ./policies.

Options:
  --config FILE     A config file to take policies.dir, policies.default, log.db and log.origin from;
                    with it, rules must ask for approver groups that its approvers are in.
  --default D       What a call that no rule matches gets: allow or deny. Default: the config's
                    policies.default, else deny.
${DB_OPTION}
  --log ORIGIN      The log to replay (test). Default: the config's log.origin, else the database's
                    only log.
  --json            Print one JSON document.
  -h, --help        Show this help.

Exit codes: 0 valid (test: every call decided as recorded), 1 (test) some calls would be decided
differently, 2 invalid policy files, usage or I/O error.
`;

export const APPROVALS_HELP = `Usage: agenttrail approvals list [--config FILE] [--db URL] [--json]
       agenttrail approvals approve ID --key FILE [--reason TEXT] [--config FILE] [--db URL]
       agenttrail approvals deny ID --key FILE [--reason TEXT] [--config FILE] [--db URL]

A policy rule with action require_approval holds a call until enough people approve it: the call
waits (its agent hears progress) up to the rule's timeout, then runs or is refused. Each request
is recorded as an approval.request entry bound to the call: agent, server, tool, arguments hash,
policy version and expiry.

  list     The requests still waiting: ID, who calls what, with which arguments (as recorded, secrets
           redacted), which rule, how many approvals it needs from which groups, who approved.
  approve  Approve request ID (or a unique prefix of it, 8 characters or more).
  deny     Deny it: the call is refused at once, and the agent reads the reason.

A decision is signed with your own key (make one with agenttrail keys init --key FILE --origin
YOUR_NAME; the config lists its verifier key under approvers, with your groups) over the request
entry's SHA-256, and recorded as an approval.decision entry that agenttrail verify checks. It is
refused when your key is no approver's, the rule asks other groups, the call was made under your
own identity (approvers.NAME.identities), you decided it already, or it is no longer waiting.
An approval is used by one call; an agent that gave up waiting gets it on a retry with identical
arguments before it expires.

agenttrail serve offers the same to approvers over HTTP, with a token from agenttrail agents add
NAME --role approver (reviewers, --role reviewer, may read): GET /v1/approvals, GET
/v1/approvals/ID (with the statement to sign) and POST /v1/approvals/ID/decision {decision,
reason?, time, key, signature}, the decision signed on the approver's side with their own key.

Options:
  --key FILE        Your signer key (a C2SP signer key file, mode 0600). The log's own key, which
                    records the decision, is $AGENTTRAIL_KEY, else the config's log.key.
  --reason TEXT     Why; recorded, and shown to the agent when you deny.
  --config FILE     The gateway's config: approvers, log.db, log.key, log.origin. Default: agenttrail.yaml.
${DB_OPTION}
  --json            (list) Print one JSON document {log, requests}.
  -h, --help        Show this help.

Exit codes: 0 done, 2 usage, config or I/O error, or a decision that is refused (one-line reason).
`;

export const CREDENTIALS_HELP = `Usage: agenttrail credentials add NAME | rotate NAME | revoke NAME | list
                              [--config FILE] [--db URL] [--key FILE] [--json]

The life cycle of the credentials the gateway hands to tool servers (the config's credentials):
  add NAME     Read the secret from its configured source and record its keyed fingerprint
               (HMAC-SHA256 under the log secret), never the secret: the log shows from when on
               this secret was delegated. For a token exchange, the client secret is recorded.
  rotate NAME  After the secret was changed at its source: record the new fingerprint. A running
               gateway keeps the value it read at start until it is restarted; its
               credential.delegated entries show which fingerprint each call carried.
  revoke NAME  Stop the credential for good, also in a running gateway from its next request on:
               every call that needs it is refused with a tool error "credential NAME was
               revoked", recorded, and no request carries it any more. It needs no earlier add.
  list         Name, status and fingerprint of each recorded credential (and, with --config,
               the configured ones not recorded yet).

Each change is first recorded in the log (credential.added, credential.rotated,
credential.revoked: name, status, fingerprint) and only then made: if the log cannot be written,
nothing changes. A revoked name cannot be added again.

Options:
  --config FILE     The gateway's config file: where each credential's secret comes from, and
                    log.db, log.key, log.secret and log.origin. Needed by add and rotate.
${DB_OPTION}
${KEY_OPTION}
                    Created if it does not exist (the path is printed on stderr).
  --json            Print one JSON document: {action, credential, entry} or {credentials}.
  -h, --help        Show this help.

Exit codes: 0 done, 2 usage, config or I/O error, or a change that does not apply (an unknown
name, a revoked credential, a rotation to the same secret), with a one-line reason on stderr.
`;

const REVIEW_LOG_OPTION = `  --log ORIGIN      The log to read. Default: the database's only log.`;

export const SESSIONS_HELP = `Usage: agenttrail sessions [--db URL] [--log ORIGIN] [--agent A] [--tool T] [--since ISO] [--until ISO]
                           [--outcome O] [--json]

Lists the log's sessions, oldest first: the agent, when the session started (its first entry),
how long it lasted (to its last entry), and its tool calls: how many, how many were denied (by a
policy, or refused by the gateway), how many waited for a human's approval, and how many failed
(an error or a timeout). Reads the sessions a page at a time.

Options:
${DB_OPTION}
${REVIEW_LOG_OPTION}
  --agent A         Only sessions of this agent: its registered name, or its MCP client's name.
  --tool T          Only sessions that called this tool: the upstream's name (echo) or the name the
                    agent used (everything__echo).
  --since ISO       Only sessions still active at or after this time (2026-01-31 or 2026-01-31T12:00:00Z).
  --until ISO       Only sessions started at or before this time.
  --outcome O       Only sessions with a tool call that ended so: ok, error, timeout, cancelled or
                    refused (refused includes calls a policy denied).
  --json            Print one JSON document: {database, log, filter, sessions: [...]}.
  -h, --help        Show this help.

Exit codes: 0 listed (also when none match), 2 usage or I/O error.
`;

export const SHOW_HELP = `Usage: agenttrail show SESSION [--db URL] [--log ORIGIN] [--json]

Prints a session's timeline in the order it was recorded: who the agent is, then each call with
its arguments, a summary of its result (or error), the policy decision, the approval steps, the
credentials the gateway handed to the upstream for it (name, where, fingerprint; never the value)
and how long it took; and the events around the calls (session start and end, ...). Long
arguments and results are cut; --json has them whole, as recorded (redacted).

Options:
${DB_OPTION}
  --log ORIGIN      The log to read. Default: the only log, or the only one that has the session.
  --json            Print one JSON document: {database, log, session: {...}, timeline: [...]}.
  -h, --help        Show this help.

Exit codes: 0 shown, 2 usage or I/O error, or no such session.
`;

export const SEARCH_HELP = `Usage: agenttrail search TEXT... [--db URL] [--log ORIGIN] [--limit N] [--json]

Finds the entries whose recorded payloads (arguments, results, errors, ...) or server and tool
names hold every word of TEXT, in any order, newest first. Matching ignores case; a word with
punctuation matches as a phrase (config.yaml); a word ending in * matches words that start so
(deploy*). Uses a full-text index (SQLite FTS5) kept in the database: each search first adds the
entries appended since the last one, so the first search of a long log takes a while.

Options:
${DB_OPTION}
${REVIEW_LOG_OPTION}
  --limit N         Show at most N entries (default 50); the total is always counted.
  --json            Print one JSON document: {database, log, query, total, hits: [...]}.
  -h, --help        Show this help.

Exit codes: 0 searched (also when nothing matches), 2 usage or I/O error.
`;

export const PRUNE_HELP = `Usage: agenttrail prune [--config FILE] [--db URL] [--key FILE] [--older-than PERIOD] [--json]

Retention: removes the payloads (arguments, results, ...) of the entries recorded before the
retention period, and takes them out of the search index. Each such entry keeps its place in the
Merkle tree: its row keeps the leaf hash of the signed body, and a body without the payload. The
boundary is first recorded in the log itself as a retention.pruned entry, signed under a
checkpoint like any other; agenttrail verify then takes the stored leaf hash of an entry before
that boundary in place of its body, so the tree, every checkpoint and every inclusion proof still
verify, and it reports how many entries were pruned. An entry after the boundary without its
body, or a changed leaf hash, fails verification. Key rotations and retention entries are never
pruned. A pruned entry's other fields (time, kind, session, ...) stay for review but are no
longer evidence; an evidence bundle cannot include it. See docs/review.md.

Run it from cron, with the gateway running or not; an interrupted run finishes on the next one.

Options:
  --config FILE     A config file to take log.retention, log.db, log.key and log.origin from.
${DB_OPTION}
${KEY_OPTION}
                    It must exist: the retention.pruned entry is signed with it.
  --older-than PERIOD  The retention period: hours, days or weeks (36h, 90d, 26w). Default: the
                    config's log.retention.
  --json            Print one JSON document: {log, period, cutoff, before, pruned, entry}.
  -h, --help        Show this help.

Exit codes: 0 done (also when nothing was old enough), 2 usage, config or I/O error.
`;

export const REPLAY_HELP = `Usage: agenttrail replay SESSION --serve [--port N] [--db URL] [--log ORIGIN]
       agenttrail replay SESSION --rerun [--config FILE] [--allow-side-effects] [--db URL] [--key FILE]
                                 [--log ORIGIN] [--json]

--serve  An MCP server that answers with what the session recorded, so that an agent can be run
         again against exactly what it saw: on stdin and stdout (put the command where the agent
         starts its server), or with --port over Streamable HTTP at http://127.0.0.1:N/mcp
         (loopback only). Both MCP 2025-11-25 and 2026-07-28 clients are served. It offers the
         tools the session's tools/list results showed the agent, by the names it saw and with
         their input schemas (a tool it called without a recorded listing takes any arguments),
         and answers each tools/call with the recorded result or error of the call with the same
         tool and the same arguments (compared by the SHA-256 of their canonical JSON, which the
         log took before redacting them). A call made several times gets the recorded answers in
         the order they were recorded, each once. A call the session does not hold fails with an
         error (InvalidParams) that names the nearest recorded call: the same tool with the fewest
         differing arguments, else the tool with the closest name. Results are replayed as
         recorded: secrets the log redacted stay redaction markers. Nothing is written to the log.

--rerun  Runs the session's tool calls again, in order, against the live upstreams, through a
         gateway built from the config file as agenttrail serve builds one: its policies decide,
         its credentials go upstream, and its log records the rerun as a new session (between
         replay.started and replay.finished entries naming SESSION). The calls are made by you,
         the OS user, as agent agenttrail-replay, not as the recorded agent: policies decide for
         that identity. Tools whose server does not mark them read-only (readOnlyHint in its
         tools/list now) are skipped unless --allow-side-effects is given; so are calls of servers
         no longer configured and calls whose arguments were recorded with secrets redacted. Each
         call's outcome, as the log holds it, is compared with the recorded one (content,
         structured content, tool error, or JSON-RPC error): same, DIFFERENT (with a line diff),
         REFUSED (by policy or the gateway, where the recorded call was not), or skipped.

Options:
  --serve           Serve the recorded results (see above).
  --port N          (serve) Serve over HTTP on 127.0.0.1:N (0 picks a free port) instead of stdio.
  --rerun           Run the calls again (see above).
  --config FILE     (rerun) The gateway's config file. Default: agenttrail.yaml.
  --allow-side-effects  (rerun) Also run the tools not marked read-only.
  --key FILE        (rerun) The gateway's signing key. Default: $AGENTTRAIL_KEY, then the config's log.key.
  --db URL          The audit database. Default: $AGENTTRAIL_DB, then (rerun) the config's log.db,
                    then file:agenttrail.db.
  --log ORIGIN      The log that holds SESSION. Default: the only log, or the only one that has it.
  --json            (rerun) Print one JSON document: {log, session, rerun, counts, calls: [...]}.
  -h, --help        Show this help.

Exit codes: 0 served, or (rerun) every call that ran gave what was recorded; 1 (rerun) some call
differs or was refused; 2 usage, config or I/O error (an unknown session).
`;

export const INGEST_HELP = `Usage: agenttrail ingest FILE.jsonl [--source NAME] [--config FILE] [--db URL] [--key FILE] [--json]

Appends other systems' events to the log, so that a reviewer reads the agents' calls and what
happened around them (a deploy, a secret read from a vault, a pull request) on one timeline.
FILE holds one event a line (JSON Lines; - reads standard input):
  {"source": "ci", "type": "deploy.finished", "time": "2026-01-31T12:00:00Z",
   "subject": "api-server", "data": {...}, "id": "run-42", "session": "SESSION"}
source (1 to 64 of a-z 0-9 . _ - /), type and time (ISO 8601 with a time zone) are required;
subject, data (any JSON), id and session are optional, and no other field is taken. An event that
names a session is shown in that session's timeline (agenttrail show); one that names none goes
to a session of its source's own, events:SOURCE. Each is recorded as an external.event entry,
signed under a checkpoint like any other, with the source it claims and who appended it (you,
the OS user), its data redacted as the gateway redacts payloads.

All or nothing: if a line is no valid event, none of the file is recorded, only the refusal (an
external.refused entry naming the bad lines), and each bad line is listed as FILE:LINE: REASON.

agenttrail serve takes events too, from systems that hold an ingest token (agenttrail agents add
NAME --role ingest):
  POST /v1/events          Authorization: Bearer <token>; one event, or an array of up to 1,000
                           (all or none recorded). 200 {accepted, sessions}; 400 names what is
                           wrong, 401/403 the token's problem; every refusal is recorded.
  POST /v1/events/github   GitHub webhook deliveries, accepted only with an X-Hub-Signature-256
                           that is the HMAC-SHA256 of the body under ingest.github.secret (config);
                           recorded as source github, type EVENT.ACTION, subject the repository.
                           Add the public host name GitHub calls to listen.allowedHosts.

Options:
  --source NAME     The source of every event of the file: a line may leave source out, or
                    repeat it; a line that names another source is refused.
  --config FILE     The gateway's config file: log.db, log.key, log.origin, and what it redacts.
${DB_OPTION}
${KEY_OPTION}
                    It must exist: the entries extend the gateway's log under its key.
  --json            Print one JSON document: {log, file, accepted, entries: {first, last}, sessions}.
  -h, --help        Show this help.

Exit codes: 0 recorded, 2 usage, config or I/O error, or a file with invalid events.
`;
