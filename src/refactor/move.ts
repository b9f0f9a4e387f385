import { ts } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import { normalizeRelative } from '../files/relative-path.js';
import type { PlanBuilder } from './plan-builder.js';
import type { RefactorPlan } from './refactor-plan.js';

export interface MoveInput {
  from: string;
  to: string;
}

/** How the compiler writes the imports it rewrites: like the file around them. */
export const formatSettings: ts.FormatCodeSettings = { ...ts.getDefaultFormatCodeSettings('\n'), indentSize: 2, tabSize: 2, convertTabsToSpaces: true };
export const preferences: ts.UserPreferences = { quotePreference: 'auto', importModuleSpecifierPreference: 'shortest', allowTextChangesInNewFiles: true };

/**
 * A file or a directory moved, and every import and re-export of it updated, relative and
 * `paths`-alias specifiers alike (the compiler's own "update imports on file rename"), the
 * moved files' own relative imports included. Files in a moved directory that are not part
 * of the project (JSON, images) move as they are.
 */
export function planMove(builder: PlanBuilder, input: MoveInput): RefactorPlan {
  const from = normalizeRelative(input.from);
  const to = normalizeRelative(input.to);
  if (from === '' || to === '') throw new CodeBuddyError('E_INVALID_ARGUMENT', 'the workspace root cannot be moved', { field: from === '' ? 'from' : 'to' });
  if (from === to) return { summary: `${from} is already there`, steps: [] };
  if (to.startsWith(`${from}/`)) throw new CodeBuddyError('E_INVALID_ARGUMENT', 'cannot move a directory into itself', { field: 'to' });
  const files = builder.warm.files;
  const source = builder.absolute(from);
  const target = builder.absolute(to);
  const isDirectory = files.directoryExistsSync(source);
  if (!isDirectory && !files.fileExistsSync(source)) throw new CodeBuddyError('E_NOT_FOUND', `${from} not found`, { field: 'from' });
  if (files.fileExistsSync(target) || files.directoryExistsSync(target)) throw new CodeBuddyError('E_CONFLICT', `${to} exists; move to a new path`, { field: 'to' });

  builder.textChanges(builder.languageService.getEditsForFileRename(source, target, formatSettings, preferences));
  const emptied: string[] = [];
  if (isDirectory) {
    const walk = (directory: string): void => {
      for (const entry of files.readDirSync(directory)) {
        const relative = builder.relative(entry.name);
        const moved = `${to}${relative.slice(from.length)}`;
        if (entry.isSymlink) throw new CodeBuddyError('E_CONFLICT', `${relative} is a symlink; move it with file_move`, { field: 'from' });
        if (entry.isDirectory) walk(entry.name);
        else if (builder.program.getSourceFile(entry.name)) builder.move(entry.name, builder.absolute(moved));
        else builder.moveAsIs(relative, moved);
      }
      emptied.push(builder.relative(directory));
    };
    walk(source);
  } else if (builder.program.getSourceFile(source)) builder.move(source, target);
  else builder.moveAsIs(from, to);

  const edited = builder.touched().filter((fileName) => !fileName.startsWith(`${source}/`) && fileName !== source).length;
  return builder.build(`move ${from} → ${to}: ${edited} importing file${edited === 1 ? '' : 's'} updated`, { emptiedDirectories: emptied });
}
