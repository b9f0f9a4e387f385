import type HeadlessModule from '@xterm/headless';
import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/event-bus.js';
import { CodeBuddyError } from '../core/errors.js';
import type { SafeRegex } from '../core/safe-regex.js';
import type { IdGenerator } from '../core/ids.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import type { TerminalRepository, TerminalRow } from '../store/terminal-repository.js';
import type { PtyProcess, Runtime } from '../workspaces/runtimes/runtime.js';
import type { Workspace } from '../workspaces/workspace.js';
import { Scrollback } from './scrollback.js';

type ScreenEmulator = InstanceType<typeof HeadlessModule.Terminal>;
/**
 * The screen emulator, loaded with the first terminal (a CommonJS package, required
 * synchronously): a server whose agents open no terminal never holds it in memory (~2.5 MiB).
 */
let emulator: typeof HeadlessModule.Terminal | undefined;
const screenEmulator = () => (emulator ??= (createRequire(import.meta.url)('@xterm/headless') as typeof HeadlessModule).Terminal);

/**
 * How much of the newest output a `wait_for` check scans. The pattern runs in linear time,
 * but it runs again on every chunk of output while a reader waits: without a bound, a
 * full scrollback re-scanned per chunk would cost every tenant's event loop.
 */
const WAIT_FOR_WINDOW_CHARS = 64 * 1024;

/** Whether the newest output since `since` (at most the window) matches. */
function tailMatches(pattern: SafeRegex, output: Scrollback, since: number): boolean {
  const { text } = output.since(Math.max(since, output.end - WAIT_FOR_WINDOW_CHARS));
  return pattern.test(plain(text));
}

/** What an agent reads and matches against: no escape sequences, `\n` line ends (a PTY sends `\r\n`). */
function plain(text: string): string {
  return stripVTControlCharacters(text).replace(/\r\n/g, '\n');
}

export interface TerminalOptions {
  scrollbackChars: number;
  maxPerWorkspace: number;
  /** Largest text one read returns; the rest stays for the next read. */
  maxReadChars: number;
}

interface LiveTerminal {
  row: TerminalRow;
  pty: PtyProcess;
  screen: ScreenEmulator;
  output: Scrollback;
  /** Set once its program ended: `reason` says why (it exited, or its workspace's container stopped). */
  exit?: { exitCode: number | null; signal: number | null; reason: string; at: number };
  /** Woken on new output or exit: readers waiting for a pattern. */
  wakers: Set<() => void>;
  viewers: Set<TerminalViewer>;
}

/** Someone watching a terminal live (a WebSocket): every byte of output, then its end, once. */
export interface TerminalViewer {
  output(data: string): void;
  ended(reason: string, exitCode: number | null): void;
}

export interface RawRead {
  text: string;
  next: number;
  dropped: number;
  more: boolean;
  matched: boolean;
  exited: boolean;
  exit_code: number | null;
  /** Why it ended, when not simply because its program exited. */
  ended?: string;
}

const PROGRAM_EXITED = 'the program exited';
/**
 * A program that ended this shortly before its container was seen stopping ended with it: its
 * stream may close before the engine reports the container's end, so the exit came first.
 */
const ENDED_WITH_CONTAINER_MS = 5_000;

/**
 * Long-lived terminals: programs on pseudo-terminals in a workspace's runtime, which an
 * agent writes to and reads from (new raw output since a cursor, or the rendered screen)
 * and humans watch live. Terminals belong to their tenant: another tenant's id answers as
 * a missing one. They live in this process; a restart closes them, and says so.
 */
export class TerminalService {
  private readonly live = new Map<string, LiveTerminal>();

  constructor(
    private readonly repository: TerminalRepository,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: TerminalOptions,
    events?: EventBus,
  ) {
    // A container stopped (by workspace_stop, or behind the server's back) ends its terminals, saying why.
    events?.subscribe('workspace.stopped', (event) => this.containerStopped(event.tenantId, event.workspaceId, event.reason));
  }

  /** At start: terminals of the previous process are closed; their programs died with it. */
  closeLeftovers(): number {
    return this.repository.closeAll('the server restarted', this.clock.now());
  }

  open(principal: Principal, workspace: Workspace, runtime: Runtime, input: { shell: string; cwd: string; cols: number; rows: number }): TerminalRow {
    const open = [...this.live.values()].filter((t) => t.row.tenant_id === principal.tenantId && t.row.workspace_id === workspace.id && !t.exit).length;
    if (open >= this.options.maxPerWorkspace) {
      throw new CodeBuddyError('E_CONFLICT', `workspace ${workspace.name} has ${open} open terminals, the most allowed; close one first`);
    }
    const id = this.ids.next('term');
    const pty = runtime.spawnPty({ label: id, cwd: input.cwd, shell: input.shell, cols: input.cols, rows: input.rows });
    const now = this.clock.now();
    this.repository.insert({ tenant_id: principal.tenantId, id, workspace_id: workspace.id, shell: input.shell, created_by: describePrincipal(principal), created_at: now });
    const terminal: LiveTerminal = {
      row: this.repository.find(principal.tenantId, id)!,
      pty,
      screen: new (screenEmulator())({ cols: input.cols, rows: input.rows, allowProposedApi: true, scrollback: 0 }),
      output: new Scrollback(this.options.scrollbackChars),
      wakers: new Set(),
      viewers: new Set(),
    };
    this.live.set(this.key(principal.tenantId, id), terminal);
    pty.onData((data) => {
      terminal.output.append(data);
      terminal.screen.write(data);
      for (const viewer of terminal.viewers) viewer.output(data);
      this.wake(terminal);
    });
    pty.onExit((exit) => {
      // Ended already (its container stopped): that reason stands.
      if (terminal.exit) return;
      terminal.exit = { exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason ?? PROGRAM_EXITED, at: Date.now() };
      // A terminal closed or shut down already has its record; its program's end comes after.
      if (this.live.get(this.key(principal.tenantId, id)) === terminal) {
        this.repository.close(principal.tenantId, id, exit.exitCode, terminal.exit.reason, this.clock.now());
      }
      this.wake(terminal);
      // Output the PTY read before the exit may still be on its way in this turn: viewers get it first.
      setImmediate(() => this.endViewers(terminal, terminal.exit!.reason));
    });
    return terminal.row;
  }

  write(principal: Principal, id: string, data: string): void {
    const terminal = this.running(principal, id);
    terminal.pty.write(data);
  }

  resize(principal: Principal, id: string, cols: number, rows: number): void {
    const terminal = this.running(principal, id);
    terminal.pty.resize(cols, rows);
    terminal.screen.resize(cols, rows);
  }

  /**
   * New output since `since`, escape sequences stripped. With `waitFor`, returns as soon as
   * the output since `since` (its newest 64 KiB) matches, the program exits, or the timeout passes.
   */
  async readRaw(principal: Principal, id: string, input: { since?: number; waitFor?: SafeRegex; timeoutMs: number; signal: AbortSignal }): Promise<RawRead> {
    const terminal = this.find(principal, id);
    const since = input.since ?? 0;
    const deadline = Date.now() + input.timeoutMs;
    const matches = () => !input.waitFor || tailMatches(input.waitFor, terminal.output, since);
    while (!matches() && !terminal.exit && Date.now() < deadline && !input.signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          terminal.wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
        terminal.wakers.add(wake);
      });
    }
    const { text, from, dropped } = terminal.output.since(since);
    const cut = text.length > this.options.maxReadChars;
    const shown = cut ? text.slice(0, this.options.maxReadChars) : text;
    return {
      text: plain(shown),
      next: from + shown.length,
      dropped,
      more: cut,
      matched: input.waitFor ? tailMatches(input.waitFor, terminal.output, since) : true,
      exited: terminal.exit !== undefined,
      exit_code: terminal.exit?.exitCode ?? null,
      ...this.endedBy(terminal),
    };
  }

  /** The screen as a person would see it now: what interactive programs need. */
  readScreen(principal: Principal, id: string): { lines: string[]; cursor: { row: number; col: number }; cols: number; rows: number; exited: boolean; ended?: string } {
    const terminal = this.find(principal, id);
    const buffer = terminal.screen.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < terminal.screen.rows; row++) lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return { lines, cursor: { row: buffer.cursorY, col: buffer.cursorX }, cols: terminal.screen.cols, rows: terminal.screen.rows, exited: terminal.exit !== undefined, ...this.endedBy(terminal) };
  }

  list(principal: Principal, workspaceId: string): TerminalRow[] {
    return this.repository.list(principal.tenantId, workspaceId, 100);
  }

  get(principal: Principal, id: string): TerminalRow {
    const row = this.repository.find(principal.tenantId, id);
    if (!row) throw new CodeBuddyError('E_NOT_FOUND', `terminal ${id} not found`, { field: 'id' });
    return row;
  }

  close(principal: Principal, id: string): TerminalRow {
    const terminal = this.live.get(this.key(principal.tenantId, id));
    if (!terminal) return this.get(principal, id);
    this.end(terminal, 'closed');
    return this.repository.find(principal.tenantId, id)!;
  }

  /**
   * A human watching: the output kept so far, then every new byte, then the terminal's end
   * (its program exited, or it was closed). Returns the way to stop watching.
   */
  attach(principal: Principal, id: string, viewer: TerminalViewer): () => void {
    const terminal = this.find(principal, id);
    viewer.output(terminal.output.since(0).text);
    if (terminal.exit) {
      viewer.ended(terminal.exit.reason, terminal.exit.exitCode);
      return () => undefined;
    }
    terminal.viewers.add(viewer);
    return () => terminal.viewers.delete(viewer);
  }

  shutdown(): void {
    for (const terminal of [...this.live.values()]) this.end(terminal, 'the server stopped');
  }

  /** Before a workspace goes away: its terminals, and everything they started, end with it. */
  closeAllIn(tenantId: string, workspaceId: string): void {
    for (const terminal of [...this.live.values()]) if (terminal.row.tenant_id === tenantId && terminal.row.workspace_id === workspaceId) this.end(terminal, 'the workspace was deleted');
  }

  /**
   * Its workspace's container stopped: each open terminal's program is gone (or frozen, when
   * paused). They end now, saying why, and stay readable like a program that exited.
   */
  private containerStopped(tenantId: string, workspaceId: string, why: string | undefined): void {
    const reason = `its workspace's container is not running${why ? ` (${why})` : ''}; workspace_start restarts it, then terminal_open opens a new terminal`;
    for (const terminal of this.live.values()) {
      if (terminal.row.tenant_id !== tenantId || terminal.row.workspace_id !== workspaceId) continue;
      if (terminal.exit) {
        if (terminal.exit.reason === PROGRAM_EXITED && Date.now() - terminal.exit.at < ENDED_WITH_CONTAINER_MS) {
          terminal.exit.reason = reason;
          this.repository.setCloseReason(tenantId, terminal.row.id, reason);
        }
        continue;
      }
      terminal.exit = { exitCode: null, signal: null, reason, at: Date.now() };
      terminal.pty.kill();
      this.repository.close(tenantId, terminal.row.id, null, reason, this.clock.now());
      this.wake(terminal);
      this.endViewers(terminal, reason);
    }
  }

  private end(terminal: LiveTerminal, reason: string): void {
    this.live.delete(this.key(terminal.row.tenant_id, terminal.row.id));
    terminal.pty.kill();
    this.repository.close(terminal.row.tenant_id, terminal.row.id, terminal.exit?.exitCode ?? null, reason, this.clock.now());
    this.wake(terminal);
    this.endViewers(terminal, reason);
    terminal.screen.dispose();
  }

  /** Tells each viewer the terminal ended, once: a close then its program's exit tell only the first. */
  private endViewers(terminal: LiveTerminal, reason: string): void {
    const viewers = [...terminal.viewers];
    terminal.viewers.clear();
    for (const viewer of viewers) viewer.ended(reason, terminal.exit?.exitCode ?? null);
  }

  private find(principal: Principal, id: string): LiveTerminal {
    const terminal = this.live.get(this.key(principal.tenantId, id));
    if (terminal) return terminal;
    const row = this.get(principal, id);
    throw new CodeBuddyError('E_CONFLICT', `terminal ${id} is closed (${row.close_reason ?? 'closed'})`, { field: 'id' });
  }

  private running(principal: Principal, id: string): LiveTerminal {
    const terminal = this.find(principal, id);
    if (terminal.exit) {
      const how = terminal.exit.reason === PROGRAM_EXITED ? `its program exited with ${terminal.exit.exitCode}` : `it ended: ${terminal.exit.reason}`;
      throw new CodeBuddyError('E_CONFLICT', `terminal ${id}: ${how}`, { field: 'id' });
    }
    return terminal;
  }

  /** Why it ended, for a reader, when not simply because its program exited. */
  private endedBy(terminal: LiveTerminal): { ended?: string } {
    return terminal.exit && terminal.exit.reason !== PROGRAM_EXITED ? { ended: terminal.exit.reason } : {};
  }

  private wake(terminal: LiveTerminal): void {
    for (const wake of [...terminal.wakers]) wake();
  }

  private key(tenantId: string, id: string): string {
    return `${tenantId}\u0000${id}`;
  }
}
