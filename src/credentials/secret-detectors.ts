/**
 * A shape of secret to find in recorded text. `group` names the capture group holding the secret
 * when the pattern needs context around it (a URL's password, a header's token).
 */
export interface SecretDetector {
  readonly name: string;
  /** Without flags; the redactor compiles all detectors into one global pattern. */
  readonly pattern: RegExp;
  readonly group?: string | undefined;
}

/**
 * Well-known secret shapes. Each is narrow on purpose: a false positive hides evidence from the
 * reviewer, so generic "long random string" rules are left to configured patterns.
 */
export const BUILT_IN_SECRET_DETECTORS: readonly SecretDetector[] = [
  { name: 'private-key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { name: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/ },
  {
    name: 'aws-secret-access-key',
    pattern: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?(?<awsSecret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/i,
    group: 'awsSecret',
  },
  { name: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})\b/ },
  { name: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/ },
  { name: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]{20,}/ },
  { name: 'agenttrail-token', pattern: /\bagt_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/ },
  { name: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { name: 'bearer-token', pattern: /\bBearer\s+(?<bearer>[A-Za-z0-9._~+/-]{16,}=*)/, group: 'bearer' },
  { name: 'url-password', pattern: /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/?#@]+:(?<urlPassword>[^\s/?#@]+)@/, group: 'urlPassword' },
];
