import { ts, type SourceFile } from 'ts-morph';
import { CodeBuddyError } from '../core/errors.js';
import { normalizeRelative } from '../files/relative-path.js';
import { sha256 } from '../files/text-content.js';
import { applySpans, type FileStep, type RefactorPlan, type TextEdit } from './refactor-plan.js';
import type { WarmProject } from './compiler-projects.js';

/** Thrown when a file the plan read differs on disk from the project's copy: the project is refreshed and the plan made again. */
export class ProjectCopyOutdated extends Error {
  constructor(readonly path: string) {
    super(`${path} changed on disk`);
  }
}

const BOM = '\uFEFF';

/**
 * Collects a refactor's changes against the warm project and turns them into a plan whose
 * base versions are the bytes on disk now, read through the handle walk in the same
 * synchronous step: a file whose disk content is not the text the compiler planned from
 * stops the plan (ProjectCopyOutdated) rather than producing a diff of something else.
 */
export class PlanBuilder {
  private readonly spans = new Map<string, TextEdit[]>();
  private readonly moves = new Map<string, string>();
  private readonly extraMoves: Array<{ from: string; to: string }> = [];

  constructor(readonly warm: WarmProject) {}

  get project() {
    return this.warm.project;
  }

  get languageService(): ts.LanguageService {
    return this.warm.project.getLanguageService().compilerObject;
  }

  /**
   * The language service's program: the one its rename and references run on. ts-morph's
   * own Program is a second program with a second type checker, rebuilt separately after
   * every change; planning on one program checks each file once.
   */
  get program(): ts.Program {
    return this.languageService.getProgram()!;
  }

  /** A workspace-relative path for a project path (`/workspace/...`). */
  relative(absolute: string): string {
    const relative = this.warm.files.relative(absolute);
    if (relative === undefined) throw new CodeBuddyError('E_CONFLICT', `the refactor would touch ${absolute}, outside the workspace`);
    return relative;
  }

  absolute(relative: string): string {
    return this.warm.files.absolute(relative);
  }

  /** The project's source file at a workspace path the caller gave, refused clearly when there is none. */
  sourceFile(path: string, field = 'path'): SourceFile {
    const relative = normalizeRelative(path);
    const file = this.warm.project.getSourceFile(this.absolute(relative));
    if (!file) {
      this.warm.files.canonical(relative); // a path leading out of the workspace is refused as such
      const exists = this.warm.files.fileExistsSync(this.absolute(relative));
      throw new CodeBuddyError('E_NOT_FOUND', exists ? `${relative} is not part of the workspace's TypeScript project (tsconfig.json include)` : `${relative} not found`, { field });
    }
    return file;
  }

  /** The offset of a 1-based line and column in a file, refused when outside it. */
  offsetOf(file: SourceFile, line: number, column: number, field = 'line'): number {
    const lines = file.getEndLineNumber();
    if (line > lines) throw new CodeBuddyError('E_INVALID_ARGUMENT', `${this.relative(file.getFilePath())} has ${lines} lines`, { field });
    const compiler = file.compilerNode;
    const start = compiler.getPositionOfLineAndCharacter(line - 1, 0);
    const end = line < lines ? compiler.getPositionOfLineAndCharacter(line, 0) : compiler.text.length;
    if (column - 1 > end - start) throw new CodeBuddyError('E_INVALID_ARGUMENT', `line ${line} has ${end - start} characters`, { field: 'column' });
    return start + column - 1;
  }

  /** 1-based line and column of an offset, for messages. */
  where(fileName: string, offset: number): string {
    const file = this.program.getSourceFile(fileName);
    if (!file) return this.relative(fileName);
    const { line, character } = file.getLineAndCharacterOfPosition(offset);
    return `${this.relative(fileName)}:${line + 1}:${character + 1}`;
  }

  change(fileName: string, change: TextEdit): void {
    let list = this.spans.get(fileName);
    if (!list) this.spans.set(fileName, (list = []));
    list.push(change);
  }

  /** What the language service answers for most refactors: text changes per file. */
  textChanges(changes: readonly ts.FileTextChanges[]): void {
    for (const file of changes) {
      if (file.isNewFile) throw new CodeBuddyError('E_CONFLICT', `the refactor would create ${this.relative(file.fileName)}; that is not supported here`);
      for (const change of file.textChanges) this.change(file.fileName, { start: change.span.start, length: change.span.length, newText: change.newText });
    }
  }

  /** The project file at `from` moves to `to` (its text changes applied on the way). */
  move(fromFileName: string, toFileName: string): void {
    this.moves.set(fromFileName, toFileName);
  }

  /** A file outside the project (a JSON file, an image in a moved directory) moves as it is. */
  moveAsIs(from: string, to: string): void {
    this.extraMoves.push({ from, to });
  }

  /** Files changed so far. */
  touched(): string[] {
    return [...new Set([...this.spans.keys(), ...this.moves.keys()])];
  }

  /**
   * The plan: each touched file's disk bytes read now (through the walk), checked against the
   * text the compiler planned from, and its new text. Unchanged files drop out.
   */
  build(summary: string, options: { emptiedDirectories?: string[] } = {}): RefactorPlan {
    const steps: FileStep[] = [];
    const seen = new Set<string>();
    const claim = (path: string) => {
      if (seen.has(path)) throw new CodeBuddyError('E_CONFLICT', `the refactor reaches ${path} by two names (a symlink); refactor it where it lives`);
      seen.add(path);
    };
    const refuseDependency = (path: string, file: ts.SourceFile) => {
      if (path.split('/').includes('node_modules') || (file.isDeclarationFile && this.program.isSourceFileDefaultLibrary(file))) {
        throw new CodeBuddyError('E_CONFLICT', `the refactor would change ${path}, a dependency or library file; nothing was changed`, { path });
      }
    };
    // One reader for the whole plan: files sorted by path share their directory's handle.
    const reader = this.warm.files.reader();
    try {
      for (const fileName of [...this.touched()].sort()) {
        const file = this.program.getSourceFile(fileName);
        if (!file) throw new CodeBuddyError('E_CONFLICT', `${this.relative(fileName)} is not part of the project`);
        const { base, bom, path } = this.baseOf(reader, this.relative(fileName), file.text);
        refuseDependency(path, file);
        // Dependencies are judged where a file lives: a symlinked package of the workspace is its own code.
        const spans = this.spans.get(fileName) ?? [];
        const after = bom + applySpans(file.text, spans);
        const before = bom + file.text;
        const to = this.moves.get(fileName);
        claim(path);
        if (to !== undefined) {
          const target = this.canonical(this.relative(to));
          claim(target);
          steps.push({ kind: 'move', from: path, to: target, base, before, after });
        } else if (after !== before) steps.push({ kind: 'edit', path, base, before, after, ...(bom === '' ? { edits: spans } : {}) });
      }
    } finally {
      reader.close();
    }
    for (const { from, to } of this.extraMoves) {
      const bytes = this.warm.files.readBytesSync(this.absolute(from));
      const text = bytes.includes(0) ? undefined : bytes.toString('utf8');
      claim(from);
      claim(to);
      steps.push({ kind: 'move', from, to, base: sha256(bytes), before: text, after: text ?? bytes });
    }
    return { summary, steps, ...(options.emptiedDirectories?.length ? { emptiedDirectories: options.emptiedDirectories } : {}) };
  }

  private canonical(relative: string): string {
    try {
      return this.warm.files.canonical(relative);
    } catch {
      return relative; // a path that does not exist yet (a move's target) is its own name
    }
  }

  /**
   * The file's bytes on disk now and its canonical path, in one walk; refused
   * (ProjectCopyOutdated) when they are not the text the compiler planned from.
   */
  private baseOf(reader: ReturnType<WarmProject['files']['reader']>, relative: string, text: string): { base: string; bom: string; path: string } {
    let read: { bytes: Buffer; canonical: string };
    try {
      read = reader.read(relative);
    } catch (error) {
      if (error instanceof CodeBuddyError && error.code === 'E_TOO_LARGE') throw error;
      throw new ProjectCopyOutdated(relative);
    }
    const disk = read.bytes.toString('utf8');
    const bom = disk.startsWith(BOM) ? BOM : '';
    if (disk.length !== text.length + bom.length || disk.slice(bom.length) !== text) throw new ProjectCopyOutdated(relative);
    return { base: sha256(read.bytes), bom, path: read.canonical };
  }
}
