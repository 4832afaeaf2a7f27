import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { ConfigError, formatConfigIssue } from '../config/config-error.js';
import type { PoliciesConfig } from '../config/config-schema.js';
import { compilePolicySet } from '../policy/policy-set.js';
import type { ApproverGroups, PolicySet } from '../policy/policy-set.js';
import { PolicyGate } from '../policy/policy-gate.js';
import { policyVersion } from '../policy/policy-version.js';
import type { PolicySource } from '../policy/policy-version.js';
import { readPolicyFolder } from './policy-folder.js';

/** Records a gateway event (`policy.loaded`, `policy.rejected`) in the log; rejects when it cannot. */
export type PolicyEventRecorder = (kind: 'policy.loaded' | 'policy.rejected', payload: Record<string, unknown>) => Promise<void>;

/** Editors write a file in several steps (truncate, write, rename): act once they are done. */
const SETTLE_MS = 150;

/** Reads and compiles a policy folder; throws ConfigError naming file, line and reason. */
export async function loadPolicyFolder(config: PoliciesConfig, approverGroups: ApproverGroups | undefined): Promise<{ policy: PolicySet; sources: PolicySource[] }> {
  const sources = await readPolicyFolder(config.dir);
  return { policy: compilePolicySet(sources, config.default, approverGroups), sources };
}

/**
 * The gateway's policy, kept in step with its folder. The folder is loaded now (a broken one stops
 * the gateway from starting) and again whenever a file in it changes. A change that does not
 * compile is rejected with file, line and reason, and the policy in force stays; either way the
 * log records it (`policy.loaded` with the version and the files, or `policy.rejected`), before
 * the new policy decides any call. If the log cannot be written the old policy stays too.
 */
export class PolicyWatch {
  readonly gate: PolicyGate;
  #watcher: FSWatcher | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #rejectedVersion: string | undefined;
  #reloading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly config: PoliciesConfig,
    private readonly approverGroups: ApproverGroups | undefined,
    private readonly loaded: { policy: PolicySet; sources: PolicySource[] },
    private readonly report: (line: string) => void,
  ) {
    this.gate = new PolicyGate(loaded.policy);
  }

  /**
   * Loads the folder (throws ConfigError when it cannot be used); `start` records it and begins
   * watching. With the config's approver groups, rules must ask for approvers who exist.
   */
  static async load(config: PoliciesConfig, approverGroups: ApproverGroups | undefined, report: (line: string) => void): Promise<PolicyWatch> {
    return new PolicyWatch(config, approverGroups, await loadPolicyFolder(config, approverGroups), report);
  }

  async start(record: PolicyEventRecorder): Promise<void> {
    // Watching starts first, so that no change after the load goes unseen; a reload waits for this record.
    this.#reloading = record('policy.loaded', loadedPayload(this.config, this.loaded.policy, this.loaded.sources));
    this.#watcher = watch(this.config.dir, () => this.scheduleReload(record));
    this.#watcher.on('error', (error) => this.report(`agenttrail: stopped watching the policy folder ${this.config.dir}: ${error.message}`));
    // Watching must not keep a gateway that is done from exiting.
    this.#watcher.unref();
    try {
      await this.#reloading;
    } catch (error) {
      this.#watcher.close();
      throw error;
    }
  }

  /** Waits for a reload in progress. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    await this.#reloading;
  }

  private scheduleReload(record: PolicyEventRecorder): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#reloading = this.#reloading.then(() => this.reload(record));
    }, SETTLE_MS);
    this.#timer.unref();
  }

  private async reload(record: PolicyEventRecorder): Promise<void> {
    let sources: PolicySource[];
    try {
      sources = await readPolicyFolder(this.config.dir);
    } catch (error) {
      this.report(`agenttrail: policy folder not reloaded: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const version = policyVersion(sources);
    if (version === this.gate.policy.version || version === this.#rejectedVersion) return;
    try {
      const policy = compilePolicySet(sources, this.config.default, this.approverGroups);
      await record('policy.loaded', loadedPayload(this.config, policy, sources));
      this.gate.replace(policy);
      this.#rejectedVersion = undefined;
      const rules = policy.rules.length;
      this.report(`agenttrail: policy ${version.slice(0, 12)} loaded from ${this.config.dir} (${rules} rule${rules === 1 ? '' : 's'})`);
    } catch (error) {
      if (!(error instanceof ConfigError)) {
        this.report(`agenttrail: policy change not applied; the policy in force stays: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      const problems = error.issues.length > 0 ? error.issues.map(formatConfigIssue) : [error.message];
      this.#rejectedVersion = version;
      this.report(`agenttrail: policy change rejected, policy ${this.gate.policy.version.slice(0, 12)} stays in force: ${problems.join('; ')}`);
      await record('policy.rejected', {
        dir: this.config.dir,
        version,
        inForce: this.gate.policy.version,
        problems: error.issues.length > 0 ? error.issues : [{ reason: error.message }],
      }).catch((failure: unknown) => this.report(`agenttrail: ${failure instanceof Error ? failure.message : String(failure)}`));
    }
  }
}

/** What the log keeps of a loaded policy: enough to read back exactly what decided the calls. */
function loadedPayload(config: PoliciesConfig, policy: PolicySet, sources: readonly PolicySource[]): Record<string, unknown> {
  const decoder = new TextDecoder();
  return {
    version: policy.version,
    dir: config.dir,
    default: policy.defaultOutcome,
    rules: policy.rules.map(({ rule, file }) => ({ id: rule.id, file, action: rule.action })),
    files: policy.files.map((file) => ({ ...file, text: decoder.decode(sources.find((source) => source.name === file.name)?.bytes) })),
  };
}
