import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import sqlite3 from 'sqlite3';
import { summarize, type Summary } from './stats.js';

/**
 * Why better-sqlite3: the server records one action per tool call, so what matters is
 * the cost of one small autocommit INSERT and one point SELECT, each on its own, as
 * the server issues them. Both drivers get the same file-backed DB settings (WAL,
 * synchronous=NORMAL), the same table and the same pre-built rows.
 */

export interface DriverResult {
  driver: string;
  insert: DriverSeries;
  select: DriverSeries;
}

export interface DriverSeries {
  opsPerSecond: number;
  totalMs: number;
  latency: Summary;
  /** Operations slower than 1 ms: stalls (WAL checkpoint fsyncs, GC), not per-call driver cost. */
  slowOps: number;
}

export interface DriverComparison {
  operations: number;
  better: DriverResult;
  callback: DriverResult;
}

const SCHEMA = `
CREATE TABLE actions (
  id              TEXT NOT NULL PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  operation       TEXT NOT NULL,
  arguments_json  TEXT NOT NULL,
  status          TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX actions_by_tenant_time ON actions(tenant_id, started_at);`;

const INSERT = `INSERT INTO actions (id, tenant_id, user_id, operation, arguments_json, status, started_at, finished_at)
  VALUES ($id, $tenant_id, $user_id, $operation, $arguments_json, $status, $started_at, $finished_at)`;
const SELECT = 'SELECT * FROM actions WHERE id = ?';

interface Row {
  id: string;
  tenant_id: string;
  user_id: string;
  operation: string;
  arguments_json: string;
  status: string;
  started_at: number;
  finished_at: number;
}

/** Rows built before any timing, so only the driver is measured; ids sort by time like ours. */
function buildRows(count: number, prefix: string): Row[] {
  const operations = ['file_read', 'file_glob', 'file_search', 'file_write', 'file_edit'];
  const base = 1_760_000_000_000;
  return Array.from({ length: count }, (_, i) => ({
    id: `act_${prefix}${String(i).padStart(8, '0')}`,
    tenant_id: 'local',
    user_id: 'bench',
    operation: operations[i % operations.length]!,
    arguments_json: JSON.stringify({ path: `src/module_${i % 97}/file_${i}.ts`, offset_line: 1 + (i % 40) }),
    status: 'succeeded',
    started_at: base + i * 3,
    finished_at: base + i * 3 + 1,
  }));
}

/** A fixed pseudo-random visiting order for the point lookups (same for both drivers). */
function shuffledIds(rows: Row[]): string[] {
  const ids = rows.map((row) => row.id);
  let state = 42;
  for (let i = ids.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const j = state % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}

/** sqlite3 binds named parameters by their full name (`$id`); better-sqlite3 by the bare key. */
type Named = Record<string, string | number>;
const named = (row: Row): Named => Object.fromEntries(Object.entries(row).map(([key, value]) => [`$${key}`, value]));

/** One driver behind the two calls the server makes; `insert` takes the index of a pre-built row. */
interface Driver {
  name: string;
  insert(index: number): unknown;
  get(id: string): unknown;
  close(): Promise<void>;
}

async function openBetterSqlite3(file: string, rows: Row[]): Promise<Driver> {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  const insert = db.prepare(INSERT);
  const select = db.prepare(SELECT);
  return {
    name: 'better-sqlite3 (synchronous)',
    insert: (index) => insert.run(rows[index]!),
    get(id) {
      if (!select.get(id)) throw new Error(`better-sqlite3: row ${id} missing`);
    },
    close: async () => void db.close(),
  };
}

/** The callback API, promisified one statement at a time: one awaited write per recorded call. */
async function openSqlite3(file: string, rows: Row[]): Promise<Driver> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(opened)));
  });
  const exec = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  await exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  await exec(SCHEMA);
  const insert = db.prepare(INSERT);
  const select = db.prepare(SELECT);
  const params = rows.map(named); // renamed before timing, like the rows themselves
  return {
    name: 'sqlite3 (async callbacks, awaited)',
    insert: (index) => new Promise<void>((resolve, reject) => insert.run(params[index], (error: Error | null) => (error ? reject(error) : resolve()))),
    get: (id) =>
      new Promise<void>((resolve, reject) =>
        select.get(id, (error: Error | null, row?: unknown) => (error ? reject(error) : row ? resolve() : reject(new Error(`sqlite3: row ${id} missing`)))),
      ),
    async close() {
      await new Promise<void>((resolve) => insert.finalize(() => resolve()));
      await new Promise<void>((resolve) => select.finalize(() => resolve()));
      await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Per-call latencies and the summed wall time of the blocks a driver ran. */
interface Tally {
  samples: number[];
  totalMs: number;
}

/** Runs a block of calls, timing each and the block; a sync driver is not charged an extra microtask. */
async function block<T>(items: readonly T[], run: (item: T) => unknown, tally: Tally): Promise<void> {
  const start = performance.now();
  for (const item of items) {
    const before = performance.now();
    const pending = run(item);
    if (pending instanceof Promise) await pending;
    tally.samples.push(performance.now() - before);
  }
  tally.totalMs += performance.now() - start;
}

/**
 * The two drivers take turns in blocks (A then B, then B then A, …) on their own database
 * files, so a slow disk moment (a WAL checkpoint's fsync, another process's I/O) lands
 * on both rather than on whichever happened to run then.
 */
async function alternate<T>(drivers: [Driver, Driver], items: readonly T[], blocks: number, run: (driver: Driver, item: T) => unknown): Promise<[Tally, Tally]> {
  const tallies: [Tally, Tally] = [{ samples: [], totalMs: 0 }, { samples: [], totalMs: 0 }];
  const size = Math.ceil(items.length / blocks);
  for (let b = 0; b < blocks; b++) {
    const slice = items.slice(b * size, (b + 1) * size);
    const order = b % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) await block(slice, (item) => run(drivers[which]!, item), tallies[which]!);
  }
  return tallies;
}

const result = (tally: Tally): DriverSeries => ({
  opsPerSecond: tally.samples.length / (tally.totalMs / 1_000),
  totalMs: tally.totalMs,
  latency: summarize(tally.samples),
  slowOps: tally.samples.filter((sample) => sample > 1).length,
});

export async function benchSqliteDrivers(workDir: string, operations = 5_000): Promise<DriverComparison> {
  const dir = join(workDir, 'sqlite');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const warmup = 300;
  // Warm-up rows first, measured rows after, in one array so the drivers insert by index.
  const rows = [...buildRows(warmup, 'w'), ...buildRows(operations, 'm')];
  const measured = rows.slice(warmup);
  const drivers: [Driver, Driver] = [await openBetterSqlite3(join(dir, 'better.db'), rows), await openSqlite3(join(dir, 'sqlite3.db'), rows)];
  try {
    const indexes = rows.map((_, index) => index);
    await alternate(drivers, indexes.slice(0, warmup), 1, (driver, index) => driver.insert(index));
    await alternate(drivers, rows.slice(0, warmup).map((row) => row.id), 1, (driver, id) => driver.get(id));
    const inserts = await alternate(drivers, indexes.slice(warmup), 10, (driver, index) => driver.insert(index));
    const selects = await alternate(drivers, shuffledIds(measured), 10, (driver, id) => driver.get(id));
    return {
      operations,
      better: { driver: drivers[0].name, insert: result(inserts[0]), select: result(selects[0]) },
      callback: { driver: drivers[1].name, insert: result(inserts[1]), select: result(selects[1]) },
    };
  } finally {
    await Promise.all(drivers.map((driver) => driver.close()));
  }
}
