import { RestError } from './rest-client';

/** The `vscode.FileSystemError` factory a failure becomes; `Unknown` is `new FileSystemError(message)`. */
export type FileSystemErrorKind = 'FileNotFound' | 'FileExists' | 'FileNotADirectory' | 'FileIsADirectory' | 'NoPermissions' | 'Unavailable' | 'Unknown';

const KIND_OF_CODE: Record<string, FileSystemErrorKind> = {
  E_NOT_FOUND: 'FileNotFound',
  // file_move onto an existing file, a non-empty directory deleted without recursive, a file changed since it was read.
  E_CONFLICT: 'FileExists',
  E_NOT_A_DIRECTORY: 'FileNotADirectory',
  E_NOT_A_FILE: 'FileIsADirectory',
  E_UNAUTHENTICATED: 'NoPermissions',
  E_FORBIDDEN: 'NoPermissions',
  E_PATH_OUTSIDE_WORKSPACE: 'NoPermissions',
  E_UNAVAILABLE: 'Unavailable',
  E_TIMEOUT: 'Unavailable',
  E_RATE_LIMITED: 'Unavailable',
  E_NETWORK: 'Unavailable',
  // Not CodeBuddy's answer (a proxy's page, a server without /api/ops): whatever its status, nothing is known of the file.
  E_BAD_RESPONSE: 'Unavailable',
};

const KIND_OF_STATUS: Record<number, FileSystemErrorKind> = {
  401: 'NoPermissions',
  403: 'NoPermissions',
  404: 'FileNotFound',
  409: 'FileExists',
  429: 'Unavailable',
  502: 'Unavailable',
  503: 'Unavailable',
  504: 'Unavailable',
};

/**
 * How a failed REST call reads to VS Code: by the server's stable code first, by HTTP status for
 * a code this version does not know. The message keeps the code, so a user sees why
 * (`E_TOO_LARGE: content is … bytes; the limit is …`).
 */
export function fileSystemErrorOf(error: unknown): { kind: FileSystemErrorKind; message: string } {
  if (error instanceof RestError) {
    return { kind: KIND_OF_CODE[error.code] ?? KIND_OF_STATUS[error.status] ?? 'Unknown', message: `${error.code}: ${error.message}` };
  }
  return { kind: 'Unknown', message: error instanceof Error ? error.message : String(error) };
}
