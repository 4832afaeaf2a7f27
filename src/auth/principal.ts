import { z } from 'zod';

/**
 * What a principal may do (see role-permissions.ts). Each role has a token of its own, so that an
 * agent's token, which travels with the agent's tool traffic, can never approve or read the log.
 */
export const PrincipalRoleSchema = z.enum(['agent', 'reviewer', 'approver', 'admin', 'ingest'], {
  error: (issue) => `unknown role ${JSON.stringify(issue.input)} (roles: agent, reviewer, approver, admin, ingest)`,
});
export type PrincipalRole = z.infer<typeof PrincipalRoleSchema>;

/** Only an active principal authenticates; a revoked one stays revoked, under its name, for good. */
export const PrincipalStatusSchema = z.enum(['active', 'suspended', 'revoked']);
export type PrincipalStatus = z.infer<typeof PrincipalStatusSchema>;

/**
 * Names appear in every entry a principal causes, so they are lower case only (no "Bot" beside
 * "bot" in a timeline) and free of spaces and quotes; "@" lets a human use an e-mail address.
 */
export const PrincipalNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._@-]{0,63}$/,
    'a name is 1 to 64 lower-case letters, digits, ".", "_", "-" or "@", starting with a letter or digit',
  );

/** Who is calling: what the principal directory answers for a token. */
export const PrincipalSchema = z.object({
  name: PrincipalNameSchema,
  role: PrincipalRoleSchema,
  status: PrincipalStatusSchema,
});
export type Principal = z.infer<typeof PrincipalSchema>;
