import { CodeBuddyError } from '../core/errors.js';

export function notFound(relative: string): CodeBuddyError {
  return new CodeBuddyError('E_NOT_FOUND', `${relative === '' ? '(workspace root)' : relative} not found`, { field: 'path' });
}

/** Errors from the file system, in the words (and codes) an agent can act on. */
export function fsError(error: unknown, relative: string): Error {
  if (error instanceof CodeBuddyError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const shown = relative === '' ? '(workspace root)' : relative;
  switch (code) {
    case 'ENOENT':
      return notFound(relative);
    case 'EISDIR':
      return new CodeBuddyError('E_NOT_A_FILE', `${shown} is a directory`, { field: 'path' });
    case 'ENOTDIR':
      return new CodeBuddyError('E_NOT_A_DIRECTORY', `a parent of ${shown} is a file`, { field: 'path' });
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new CodeBuddyError('E_CONFLICT', `${shown} exists`, { field: 'path' });
    case 'ENOSPC':
    case 'EDQUOT':
      return new CodeBuddyError('E_DISK_FULL', `no space left writing ${shown}: the workspace is at its disk limit (limits.disk_mb, at most the server's workspaceDiskBytes; workspace_get shows it); nothing was written, delete files to make room`, { field: 'path' });
    case 'ENAMETOOLONG':
      return new CodeBuddyError('E_INVALID_ARGUMENT', 'path is too long', { field: 'path' });
    case 'EACCES':
    case 'EPERM':
      return new CodeBuddyError('E_FORBIDDEN', `permission denied on ${shown}`, { field: 'path' });
    case 'EBUSY':
      return new CodeBuddyError('E_CONFLICT', `${shown} is in use (a mount point, or held by a running command)`, { field: 'path' });
    case 'EXDEV':
      return new CodeBuddyError('E_CONFLICT', `${shown} is on another file system (a mount inside the workspace); copy it instead`, { field: 'path' });
    case 'EINVAL':
      return new CodeBuddyError('E_INVALID_ARGUMENT', `${shown}: the file system refused that (a directory into itself, or a name it does not allow)`, { field: 'path' });
    case 'EROFS':
      return new CodeBuddyError('E_FORBIDDEN', `${shown} is on a read-only file system`, { field: 'path' });
    case 'ELOOP':
      // Only a symlink swapped in under us makes the kernel refuse an O_NOFOLLOW open.
      return new CodeBuddyError('E_PATH_OUTSIDE_WORKSPACE', `${shown} changed into a symlink while it was being used`, { field: 'path' });
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
