import { parentPort, workerData } from 'node:worker_threads';
import { CodeBuddyError } from '../core/errors.js';
import { CompilerProjects } from './compiler-projects.js';
import { planExtract } from './extract.js';
import { planMove } from './move.js';
import { planOrganizeImports } from './organize-imports.js';
import type { PlanBuilder } from './plan-builder.js';
import { renderPlan, type RefactorPlan } from './refactor-plan.js';
import type { Failure, PlannerInputs, PlannerName, RefactorRequest, RefactorResponse, RefactorWorkerData } from './refactor-protocol.js';
import { planRename } from './rename.js';
import { planSignature } from './signature.js';

/*
 * The refactoring worker: the only place ts-morph and the compiler are loaded. It holds the
 * warm projects and computes plans; the main thread keeps the bus, the watcher leases and
 * the apply (refactor-worker-client.ts, typescript-projects.ts). Loading a project of
 * thousands of files and planning on it take this thread's time, never the event loop
 * every client shares. Jobs arrive one at a time; notices (what changed, what to drop)
 * arrive in order between them.
 */

const planners: { [N in PlannerName]: (builder: PlanBuilder, input: PlannerInputs[N]) => RefactorPlan } = {
  rename: planRename,
  move: planMove,
  organize_imports: planOrganizeImports,
  extract: planExtract,
  signature: planSignature,
};

const projects = new CompilerProjects(workerData as RefactorWorkerData);

function failure(error: unknown): Failure {
  if (error instanceof CodeBuddyError) return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  return { code: 'E_INTERNAL', message: 'Internal error; the server log has the details.', internal: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

parentPort!.on('message', (request: RefactorRequest) => {
  switch (request.kind) {
    case 'changed':
      projects.changed(request.key, request.paths);
      return;
    case 'drop':
      projects.drop(request.key);
      return;
  }
  const started = performance.now();
  let response: RefactorResponse;
  try {
    let result: RefactorPlan | boolean;
    if (request.kind === 'covers') result = projects.covers(request.project, request.path);
    else {
      const plan = projects.plan(request.project, planners[request.planner] as (builder: PlanBuilder, input: unknown) => RefactorPlan, request.input);
      // Rendered here: diffing hundreds of files would otherwise be the event loop's work.
      result = { ...plan, rendered: renderPlan(plan, { preview: request.preview }) };
    }
    response = { id: request.id, ok: true, result, held: true, ms: performance.now() - started };
  } catch (error) {
    response = { id: request.id, ok: false, failure: failure(error), held: projects.holds(request.project.key) };
  }
  try {
    parentPort!.postMessage(response);
  } catch (error) {
    // Details that cannot cross the boundary (not cloneable): the code and message still do.
    const { details: _details, ...plain } = response.ok ? failure(error) : response.failure;
    parentPort!.postMessage({ id: request.id, ok: false, failure: plain, held: projects.holds(request.project.key) } satisfies RefactorResponse);
  }
});
