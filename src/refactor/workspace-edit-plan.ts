import type { CreateFile, DeleteFile, RenameFile, TextDocumentEdit, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { LineIndex } from '../code/document-offsets.js';
import { pathOf } from '../code/workspace-uri.js';
import { CodeBuddyError } from '../core/errors.js';
import { applySpans, type FileStep } from './refactor-plan.js';

/** A workspace file as it is on disk now: its canonical name, the sha256 of its bytes, its text (a BOM kept apart). */
export interface DiskFile {
  path: string;
  base: string;
  bom: string;
  text: string;
}

/** How the conversion reaches the workspace's files: names made canonical, files read, both confined to the workspace. */
export interface EditFiles {
  /** The canonical workspace-relative name a path leads to (it need not exist). */
  canonical(path: string): Promise<string>;
  /** The file at a canonical path, undefined when nothing is there; anything but a regular text file is refused. */
  read(path: string): Promise<DiskFile | undefined>;
}

/** Thrown when an edit does not fit the file on disk: the server computed it against another text. */
export class ServerViewOutdated extends Error {
  constructor(readonly path: string) {
    super(`${path} is not the text the language server edited`);
  }
}

/** What the workspace edit came to: the plan, the files its text edits were computed against, and counts for a summary. */
export interface ConvertedEdit {
  steps: FileStep[];
  /** Disk files text edits were applied to as they were (not created or emptied first): what the server must have seen. */
  edited: DiskFile[];
  textEdits: number;
  /** Files given text edits. */
  textFiles: number;
  fileOperations: number;
}

/** A file as the edit leaves it so far: which disk file it started as (none: created) and its text now. */
interface Planned {
  origin: DiskFile | undefined;
  text: string;
}

const DEPENDENCY = /(^|\/)(node_modules|site-packages|\.venv|venv)\//;

/**
 * A language server's WorkspaceEdit (`changes`, or `documentChanges` with create, rename and
 * delete file operations, applied in order as the protocol says) turned into the steps of an
 * edit plan, the same the TypeScript engine makes, so preview, approval, stale checks and
 * atomic apply are shared. Nothing is written here. URIs are mapped back to workspace paths;
 * anything outside the workspace, inside a dependency directory, or a directory operation is
 * refused, and so is an edit that does not fit the file it names.
 */
export async function convertWorkspaceEdit(edit: WorkspaceEdit, files: EditFiles): Promise<ConvertedEdit> {
  const onDisk = new Map<string, DiskFile | undefined>();
  const now = new Map<string, Planned | null>();
  const edited = new Map<string, DiskFile>();
  const textFiles = new Set<string>();
  let textEdits = 0;
  let fileOperations = 0;

  const pathFor = async (uri: string): Promise<string> => {
    const mapped = pathOf(uri);
    if (!mapped.inside) throw new CodeBuddyError('E_PATH_OUTSIDE_WORKSPACE', `the language server's edit reaches ${mapped.path}, outside the workspace; nothing was changed`, { path: mapped.path });
    const path = await files.canonical(mapped.path);
    if (DEPENDENCY.test(path)) throw new CodeBuddyError('E_CONFLICT', `the rename would change ${path}, a dependency; nothing was changed`, { path });
    return path;
  };
  const at = async (path: string): Promise<Planned | null> => {
    if (!now.has(path)) {
      const disk = await files.read(path);
      onDisk.set(path, disk);
      now.set(path, disk ? { origin: disk, text: disk.text } : null);
    }
    return now.get(path)!;
  };

  const editText = async (uri: string, edits: readonly (Omit<TextEdit, 'newText'> & { newText?: unknown })[]) => {
    const path = await pathFor(uri);
    const file = await at(path);
    if (!file) throw new CodeBuddyError('E_CONFLICT', `the language server's edit changes ${path}, which is not there; nothing was changed`, { path });
    if (file.origin && file.text === file.origin.text) edited.set(path, file.origin);
    const index = new LineIndex(file.text);
    const spans = edits.map((item) => {
      if (typeof item.newText !== 'string') throw new CodeBuddyError('E_UNSUPPORTED', `the language server sent a snippet edit for ${path}; only plain text edits are applied`, { path });
      const start = index.offsetAt(item.range.start);
      const end = index.offsetAt(item.range.end);
      if (start === undefined || end === undefined || end < start) throw new ServerViewOutdated(path);
      return { start, length: end - start, newText: item.newText as string };
    });
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start < sorted[i - 1]!.start + sorted[i - 1]!.length) throw new CodeBuddyError('E_CONFLICT', `the language server's edits of ${path} overlap; nothing was changed`, { path });
    }
    file.text = applySpans(file.text, spans);
    textEdits += spans.length;
    if (spans.length > 0) textFiles.add(path);
  };

  const create = async (operation: CreateFile) => {
    const path = await pathFor(operation.uri);
    const there = await at(path);
    if (there && operation.options?.ignoreIfExists && !operation.options.overwrite) return;
    if (there && !operation.options?.overwrite) throw new CodeBuddyError('E_CONFLICT', `the language server would create ${path}, which exists; nothing was changed`, { path });
    now.set(path, { origin: there?.origin, text: '' });
    fileOperations++;
  };

  const rename = async (operation: RenameFile) => {
    const from = await pathFor(operation.oldUri);
    const to = await pathFor(operation.newUri);
    const source = await at(from);
    if (!source) throw new CodeBuddyError('E_CONFLICT', `the language server would rename ${from}, which is not there; nothing was changed`, { path: from });
    if (from === to) return;
    const target = await at(to);
    if (target && operation.options?.ignoreIfExists && !operation.options.overwrite) return;
    if (target && !operation.options?.overwrite) throw new CodeBuddyError('E_CONFLICT', `the language server would rename ${from} to ${to}, which exists; nothing was changed`, { path: to });
    now.set(from, null);
    now.set(to, source);
    fileOperations++;
  };

  const remove = async (operation: DeleteFile) => {
    const path = await pathFor(operation.uri);
    const there = await at(path);
    if (!there) {
      if (operation.options?.ignoreIfNotExists) return;
      throw new CodeBuddyError('E_CONFLICT', `the language server would delete ${path}, which is not there; nothing was changed`, { path });
    }
    now.set(path, null);
    fileOperations++;
  };

  if (edit.documentChanges) {
    for (const change of edit.documentChanges) {
      if ('kind' in change) {
        if (change.kind === 'create') await create(change);
        else if (change.kind === 'rename') await rename(change);
        else if (change.kind === 'delete') await remove(change);
        else throw new CodeBuddyError('E_UNSUPPORTED', `the language server sent a file operation of kind ${JSON.stringify((change as { kind: unknown }).kind)}`);
      } else await editText((change as TextDocumentEdit).textDocument.uri, (change as TextDocumentEdit).edits);
    }
  } else {
    for (const [uri, edits] of Object.entries(edit.changes ?? {})) await editText(uri, edits);
  }
  return { steps: stepsOf(onDisk, now), edited: [...edited.values()], textEdits, textFiles: textFiles.size, fileOperations };
}

/**
 * The plan's steps from where the edit leaves each file: a file still where it was with new
 * text is an edit; one now elsewhere is a move (or, when it replaced a file there, an edit of
 * that file and a delete of its old place); one gone is a delete; a new one a create.
 */
function stepsOf(onDisk: Map<string, DiskFile | undefined>, now: Map<string, Planned | null>): FileStep[] {
  const steps: FileStep[] = [];
  const covered = new Set<string>();
  const moved = new Set<DiskFile>();
  for (const [path, file] of [...now.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!file) continue;
    const original = onDisk.get(path);
    const bom = (file.origin ?? original)?.bom ?? '';
    const after = bom + file.text;
    if (original && file.origin === original) {
      if (file.text !== original.text) steps.push({ kind: 'edit', path, base: original.base, before: original.bom + original.text, after });
    } else if (original) {
      steps.push({ kind: 'edit', path, base: original.base, before: original.bom + original.text, after });
    } else if (file.origin) {
      steps.push({ kind: 'move', from: file.origin.path, to: path, base: file.origin.base, before: file.origin.bom + file.origin.text, after });
      moved.add(file.origin);
    } else {
      steps.push({ kind: 'create', path, after });
    }
    covered.add(path);
  }
  for (const [path, original] of onDisk) {
    if (!original || moved.has(original) || covered.has(path)) continue;
    steps.push({ kind: 'delete', path, base: original.base, before: original.bom + original.text });
  }
  return steps;
}

/** The summary line of a rename made by a language server. */
export function renameSummary(oldName: string, newName: string, converted: ConvertedEdit, server: string): string {
  const files = converted.textFiles;
  const operations = converted.fileOperations ? `, ${converted.fileOperations} file operation${converted.fileOperations === 1 ? '' : 's'}` : '';
  return `rename ${oldName} → ${newName}: ${converted.textEdits} reference${converted.textEdits === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}${operations} (${server} language server)`;
}
