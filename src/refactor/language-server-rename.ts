import type { DocumentSymbol, Position, SymbolInformation } from 'vscode-languageserver-protocol';
import type { CodeIntelligence } from '../code/code-intelligence.js';
import { LineIndex } from '../code/document-offsets.js';
import { pathOf, shownPath } from '../code/workspace-uri.js';
import type { ServerRegistry } from '../code/server-registry.js';
import { CodeBuddyError } from '../core/errors.js';
import type { FileService } from '../files/file-service.js';
import { decodeText, sha256 } from '../files/text-content.js';
import type { Workspace } from '../workspaces/workspace.js';
import type { RefactorPlan } from './refactor-plan.js';
import type { RenameInput } from './rename.js';
import { findCollision } from './rename-collision.js';
import { convertWorkspaceEdit, renameSummary, ServerViewOutdated, type DiskFile, type EditFiles } from './workspace-edit-plan.js';

/** Rounds of asking again when the server's view of a file was not the disk's. */
const ATTEMPTS = 3;
const BOM = '\uFEFF';
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** What a new name must look like, per language; other languages get a letter-digit-underscore shape. */
const IDENTIFIER: Record<string, RegExp> = {
  python: /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u,
};
const ANY_IDENTIFIER = /^[\p{L}\p{Nl}_$][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$]*$/u;
const RESERVED: Record<string, ReadonlySet<string>> = {
  python: new Set(
    'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
  ),
  go: new Set('break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var'.split(' ')),
};

function assertName(name: string, languageId: string): void {
  const shape = IDENTIFIER[languageId] ?? ANY_IDENTIFIER;
  if (!shape.test(name) || RESERVED[languageId]?.has(name)) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${JSON.stringify(name)} is not a valid ${languageId} identifier`, { field: 'new_name' });
}

/** The identifier around a position, for a summary when the server did not name it. */
function wordAt(text: string, position: Position): string {
  const index = new LineIndex(text);
  const offset = index.offsetAt(position) ?? 0;
  const before = /[\p{L}\p{N}_$]*$/u.exec(text.slice(Math.max(0, offset - 200), offset))![0];
  const after = /^[\p{L}\p{N}_$]*/u.exec(text.slice(offset, offset + 200))![0];
  return before + after || '(symbol)';
}

/**
 * Renames in files no TypeScript project covers, through the workspace's language server
 * (pyright for Python by default; whatever server the registry gives the file), running in
 * the workspace's runtime. The server computes the WorkspaceEdit; it becomes the same edit
 * plan the TypeScript engine makes (workspace-edit-plan.ts).
 *
 * The server plans from its own view of each file: the documents it has open (brought up to
 * date before the request) and the files it read itself. The plan's bases are the disk's
 * bytes, so every file it edits must be a document the server holds with exactly that text:
 * a file it read itself is opened in it and the rename asked again, so a change the server
 * had not heard of yet cannot shift an edit onto the wrong characters.
 */
export class LanguageServerRenames {
  constructor(
    private readonly code: CodeIntelligence,
    private readonly registry: ServerRegistry,
    private readonly files: FileService,
    /** Longest wait for the server's outline of a file (the collision check). */
    private readonly requestTimeoutMs: number,
  ) {}

  /** `handledElsewhere`: a file another engine owns (the TypeScript project's), refused here as not found. */
  async plan(workspace: Workspace, input: RenameInput, handledElsewhere: (path: string) => Promise<boolean> = async () => false): Promise<RefactorPlan> {
    let misfit: string | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const at = await this.code.locate(workspace, input);
      if (await handledElsewhere(at.document.path)) throw new CodeBuddyError('E_NOT_FOUND', `${at.document.path} belongs to another refactoring engine`, { field: 'symbol' });
      // A server still loading answers from part of the project: a rename then would miss references.
      if (at.notes.length > 0) throw new CodeBuddyError('E_UNAVAILABLE', `${at.notes.join('; ')}; a rename now could miss references: retry`, { retryable: true });
      assertName(input.new_name, at.document.languageId);
      const { edit, oldName = wordAt(at.document.text, at.position) } = await at.server.rename(at.connection, at.document, at.position, input.new_name);
      if (oldName === input.new_name) return { summary: `${oldName} already has that name`, steps: [] };
      let converted;
      try {
        converted = await convertWorkspaceEdit(edit, this.editFiles(workspace));
      } catch (error) {
        if (!(error instanceof ServerViewOutdated)) throw error;
        misfit = `the ${at.server.spec.id} server's edit does not fit ${error.path} (a position outside it), even given the file as it is; nothing was changed`;
        await this.openIn(workspace, at, error.path);
        continue;
      }
      misfit = undefined;
      const unseen = converted.edited.filter((file) => at.server.documentText(file.path) !== file.text);
      if (unseen.length === 0) {
        await this.assertNameFree(at, edit, input.new_name);
        return { summary: renameSummary(oldName, input.new_name, converted, at.server.spec.id), steps: converted.steps };
      }
      for (const file of unseen) await this.openIn(workspace, at, file.path);
    }
    if (misfit) throw new CodeBuddyError('E_CONFLICT', misfit);
    throw new CodeBuddyError('E_CONFLICT', 'files kept changing while the language server planned the rename (or it touches more files than it keeps open: codeMaxOpenDocuments); try again when they settle');
  }

  /** Refuses the rename when the new name already names a symbol where the edit puts it (rename-collision.ts). */
  private async assertNameFree(at: Awaited<ReturnType<CodeIntelligence['locate']>>, edit: Parameters<typeof findCollision>[0], newName: string): Promise<void> {
    // A server without an outline cannot be asked: its rename is taken as it computes it.
    if (!at.connection.supports('textDocument/documentSymbol')) return;
    const collision = await findCollision(edit, newName, (uri) =>
      at.connection.request<(DocumentSymbol | SymbolInformation)[] | null>('textDocument/documentSymbol', { textDocument: { uri } }, this.requestTimeoutMs).then((symbols) => symbols ?? undefined),
    );
    if (!collision) return;
    const where = `${shownPath(pathOf(collision.uri))}:${collision.at.line + 1}:${collision.at.character + 1}`;
    throw new CodeBuddyError('E_CONFLICT', `${newName} is already declared where the symbol is used: ${where}; nothing was changed`, { field: 'new_name', collision: where });
  }

  /** Gives the server the file as it is on disk now (opened, or its open copy brought up to date). */
  private async openIn(workspace: Workspace, at: Awaited<ReturnType<CodeIntelligence['locate']>>, path: string): Promise<void> {
    const match = this.registry.forPath(path, workspace.runtime);
    const languageId = match && match.spec.id === at.server.spec.id ? match.languageId : at.server.spec.languages[0]!.id;
    await at.server.open(at.connection, path, languageId);
  }

  private editFiles(workspace: Workspace): EditFiles {
    return {
      canonical: async (path) => (await this.files.resolve(workspace, path)).relative,
      read: async (path): Promise<DiskFile | undefined> => {
        const snapshot = await this.files.snapshot(workspace, path);
        if (!snapshot.exists) return undefined;
        if (snapshot.sha256 === null) throw new CodeBuddyError('E_UNSUPPORTED', `the language server's edit names ${path}, a directory or special file; only files are renamed, created or deleted here`, { path });
        const { content } = await this.files.readIfChanged(workspace, path);
        const text = content && decodeText(content);
        if (text === undefined) throw new CodeBuddyError('E_NOT_A_FILE', `the language server's edit names ${path}, a binary file`, { path });
        // The decoder drops a BOM, as the server's copy does; the plan puts it back.
        return { path: snapshot.path, base: sha256(content!), bom: content!.subarray(0, 3).equals(UTF8_BOM) ? BOM : '', text };
      },
    };
  }
}
