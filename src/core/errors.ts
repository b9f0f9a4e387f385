/**
 * The one error type every layer throws. `code` is stable and documented: agents
 * branch on it, faces map it to their own shape (MCP isError result, HTTP status).
 */
export const ErrorCodes = {
  E_INVALID_ARGUMENT: 'E_INVALID_ARGUMENT',
  E_UNAUTHENTICATED: 'E_UNAUTHENTICATED',
  E_FORBIDDEN: 'E_FORBIDDEN',
  E_NOT_FOUND: 'E_NOT_FOUND',
  E_CONFLICT: 'E_CONFLICT',
  E_PATH_OUTSIDE_WORKSPACE: 'E_PATH_OUTSIDE_WORKSPACE',
  E_NOT_A_FILE: 'E_NOT_A_FILE',
  E_NOT_A_DIRECTORY: 'E_NOT_A_DIRECTORY',
  E_TOO_LARGE: 'E_TOO_LARGE',
  E_DISK_FULL: 'E_DISK_FULL',
  E_EDIT_NO_MATCH: 'E_EDIT_NO_MATCH',
  E_EDIT_COUNT_MISMATCH: 'E_EDIT_COUNT_MISMATCH',
  E_INVALID_CURSOR: 'E_INVALID_CURSOR',
  E_IDEMPOTENCY_MISMATCH: 'E_IDEMPOTENCY_MISMATCH',
  E_STALE_PROPOSAL: 'E_STALE_PROPOSAL',
  E_OUTCOME_UNKNOWN: 'E_OUTCOME_UNKNOWN',
  E_RATE_LIMITED: 'E_RATE_LIMITED',
  /** An HTTP method a route does not serve (HEAD on a GET route would run its operation for nothing): the answer's Allow header names those it does. */
  E_METHOD_NOT_ALLOWED: 'E_METHOD_NOT_ALLOWED',
  E_CONFIG: 'E_CONFIG',
  /** What was asked is not offered: a language server whose capabilities do not advertise it, a file no grammar reads. */
  E_UNSUPPORTED: 'E_UNSUPPORTED',
  /** A service needed for the answer is down for now (a language server crashed or restarts): retry. */
  E_UNAVAILABLE: 'E_UNAVAILABLE',
  /** The answer did not come within its time limit. */
  E_TIMEOUT: 'E_TIMEOUT',
  E_INTERNAL: 'E_INTERNAL',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class CodeBuddyError extends Error {
  override readonly name = 'CodeBuddyError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable detail an agent can act on (the offending field, the closest match, ...). */
    readonly details?: Record<string, unknown>,
  ) {
    // These are expected answers (not found, invalid argument), not bugs: nobody reads their
    // stack, and capturing one deep in async code costs more than the rest of the reply.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

export function isCodeBuddyError(error: unknown): error is CodeBuddyError {
  return error instanceof CodeBuddyError;
}

/** Anything thrown that is not ours becomes E_INTERNAL; the original stays in the log, not in the answer. */
export function toCodeBuddyError(error: unknown): CodeBuddyError {
  if (isCodeBuddyError(error)) return error;
  return new CodeBuddyError('E_INTERNAL', 'Internal error; the server log has the details.');
}
