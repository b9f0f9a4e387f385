import { CodeBuddyError } from '../core/errors.js';
import { pathGlob } from '../core/path-glob.js';
import { formatSettings, preferences } from './move.js';
import type { PlanBuilder } from './plan-builder.js';
import type { RefactorPlan } from './refactor-plan.js';

export interface OrganizeImportsInput {
  /** A file, or a glob over the project's files (`src/**\/*.ts`). */
  path: string;
}

const isGlob = (path: string) => /[*?[\]{}]/.test(path);

/**
 * The compiler's "organize imports" on one file or every project file a glob matches:
 * unused imports removed, the rest merged and sorted. Files already organized drop out of
 * the plan.
 */
export function planOrganizeImports(builder: PlanBuilder, input: OrganizeImportsInput): RefactorPlan {
  const fileNames = isGlob(input.path)
    ? builder.project
        .getSourceFiles()
        .map((file) => file.getFilePath() as string)
        .filter((fileName) => {
          const relative = builder.relative(fileName);
          return !relative.split('/').includes('node_modules') && !fileName.endsWith('.d.ts') && pathGlob(input.path)(relative);
        })
    : [builder.sourceFile(input.path).getFilePath() as string];
  if (fileNames.length === 0) throw new CodeBuddyError('E_NOT_FOUND', `no file of the project matches ${input.path}`, { field: 'path' });
  for (const fileName of fileNames) {
    builder.textChanges(builder.languageService.organizeImports({ type: 'file', fileName, skipDestructiveCodeActions: false }, formatSettings, preferences));
  }
  const plan = builder.build('');
  const count = plan.steps.length;
  return { ...plan, summary: `organize imports: ${count} of ${fileNames.length} file${fileNames.length === 1 ? '' : 's'} changed` };
}
