import { z } from 'zod';

export const roles = ['agent', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: every request and every row belongs to a tenant and a user. */
export interface Principal {
  tenantId: string;
  userId: string;
  role: Role;
}

export const tenantIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63');
export const userIdSchema = z.string().min(1).max(200).regex(/^[^\s\u0000-\u001f]+$/, 'no spaces or control characters');

export function describePrincipal(principal: Principal): string {
  return `${principal.tenantId}/${principal.userId}`;
}
