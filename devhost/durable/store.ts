import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RuntimeStatus } from './backend.js';
import { WalCheckpointer, type WalCheckpointerOptions } from './walCheckpointer.js';

/** One row of `instances`. JSON columns hold JSON text (or NULL for "none"). */
export interface InstanceRow {
  instance_id: string;
  name: string;
  version: string | null;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  failure_details: string | null;
  created_ms: number;
  updated_ms: number;
  execution_id: string;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_task_id: number | null;
  ledger: string;
}

export interface MessageRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  visible_at: number;
  event: string;
  timer_id: number | null;
}

export interface WorkItemRow {
  id: number;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string;
}

const META_SCHEMA = 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);';
const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT, status TEXT NOT NULL,
  output TEXT, custom_status TEXT, failure_details TEXT,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, execution_id TEXT NOT NULL,
  parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER, ledger TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_ms, instance_id);
CREATE TABLE IF NOT EXISTS instance_inputs (instance_id TEXT PRIMARY KEY, input TEXT);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS history_instance ON history(instance_id, seq);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT,
  visible_at INTEGER NOT NULL, event TEXT NOT NULL, timer_id INTEGER);
CREATE INDEX IF NOT EXISTS messages_instance ON messages(instance_id, id);
CREATE INDEX IF NOT EXISTS messages_visible ON messages(visible_at);
CREATE TABLE IF NOT EXISTS work_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL, name TEXT NOT NULL, input TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS work_items_instance ON work_items(instance_id);
`;

const STORE_FORMAT = '3';

/**
 * An instance row with its input. The input has a table of its own because it is the row's largest
 * part and is written once per execution, while the rest changes on every episode: an update then
 * rewrites a few hundred bytes instead of the whole input.
 */
const SELECT_INSTANCES = 'SELECT * FROM instances LEFT JOIN instance_inputs USING (instance_id)';
const SELECT_HEADS = 'SELECT *, NULL AS input FROM instances';

/**
 * The part of a better-sqlite3 statement the engine uses, declared here: the package's own `Statement`
 * lives in a namespace declaration files cannot name (TS4058), and devhost ships declarations for the
 * testing harness (durable-agents/testing).
 */
export interface PreparedStatement<P extends unknown[], R = unknown> {
  get(...params: P): R | undefined;
  all(...params: P): R[];
  run(...params: P): Database.RunResult;
}

function prepareAll(db: {
  prepare<P extends unknown[], R = unknown>(source: string): PreparedStatement<P, R>;
}) {
  return {
    getInstance: db.prepare<[string], InstanceRow>(`${SELECT_INSTANCES} WHERE instance_id = ?`),
    /** The row without its input, for status reads that do not show it (`input` is null). */
    getInstanceHead: db.prepare<[string], InstanceRow>(`${SELECT_HEADS} WHERE instance_id = ?`),
    insertInstance: db.prepare<[InstanceRow]>(
      `INSERT OR REPLACE INTO instances VALUES (@instance_id, @name, @version, @status, @output,
       @custom_status, @failure_details, @created_ms, @updated_ms, @execution_id, @parent_instance_id,
       @parent_execution_id, @parent_task_id, @ledger)`,
    ),
    /** Everything but the input, which lives in its own row (`setInput`) and seldom changes. */
    updateInstance: db.prepare<[InstanceRow]>(
      `UPDATE instances SET status=@status, output=@output, custom_status=@custom_status,
       failure_details=@failure_details, updated_ms=@updated_ms, execution_id=@execution_id, ledger=@ledger
       WHERE instance_id=@instance_id`,
    ),
    setInput: db.prepare<[string, string | null]>('INSERT OR REPLACE INTO instance_inputs VALUES (?, ?)'),
    deleteInstance: db.prepare<[string]>('DELETE FROM instances WHERE instance_id = ?'),
    deleteInput: db.prepare<[string]>('DELETE FROM instance_inputs WHERE instance_id = ?'),
    history: db.prepare<[string], { seq: number; event: string }>(
      'SELECT seq, event FROM history WHERE instance_id = ? ORDER BY seq',
    ),
    insertHistory: db.prepare<[string, number, string]>(
      'INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)',
    ),
    deleteHistory: db.prepare<[string]>('DELETE FROM history WHERE instance_id = ?'),
    deleteHistoryRow: db.prepare<[string, number]>('DELETE FROM history WHERE instance_id = ? AND seq = ?'),
    visibleMessages: db.prepare<[string, number], MessageRow>(
      'SELECT * FROM messages WHERE instance_id = ? AND visible_at <= ? ORDER BY id',
    ),
    insertMessage: db.prepare<[string, string | null, number, string, number | null]>(
      'INSERT INTO messages (instance_id, execution_id, visible_at, event, timer_id) VALUES (?, ?, ?, ?, ?)',
    ),
    deleteMessage: db.prepare<[number]>('DELETE FROM messages WHERE id = ?'),
    deleteMessages: db.prepare<[string]>('DELETE FROM messages WHERE instance_id = ?'),
    deleteTimerMessage: db.prepare<[string, number]>(
      'DELETE FROM messages WHERE instance_id = ? AND timer_id = ?',
    ),
    timerMessageExists: db.prepare<[string, number], { one: number }>(
      'SELECT 1 AS one FROM messages WHERE instance_id = ? AND timer_id = ?',
    ),
    nextDue: db.prepare<[number], { due: number | null }>(
      'SELECT MIN(visible_at) AS due FROM messages WHERE visible_at > ?',
    ),
    dueInstances: db.prepare<[number, number], { instance_id: string }>(
      'SELECT DISTINCT instance_id FROM messages WHERE visible_at > ? AND visible_at <= ?',
    ),
    instancesWithVisible: db.prepare<[number], { instance_id: string }>(
      'SELECT DISTINCT instance_id FROM messages WHERE visible_at <= ?',
    ),
    insertWorkItem: db.prepare<[string, string, number, string, string]>(
      'INSERT INTO work_items (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)',
    ),
    getWorkItem: db.prepare<[number], WorkItemRow>('SELECT * FROM work_items WHERE id = ?'),
    allWorkItems: db.prepare<[], WorkItemRow>('SELECT * FROM work_items ORDER BY id'),
    workItemsOf: db.prepare<[string], WorkItemRow>('SELECT * FROM work_items WHERE instance_id = ?'),
    deleteWorkItem: db.prepare<[number]>('DELETE FROM work_items WHERE id = ?'),
    deleteWorkItems: db.prepare<[string]>('DELETE FROM work_items WHERE instance_id = ?'),
  };
}

export type Statements = ReturnType<typeof prepareAll>;

export interface DurableStoreOptions {
  /** Checkpoint the WAL on a worker thread (walCheckpointer.ts) instead of inside commits (default true). */
  backgroundCheckpoints?: boolean;
  checkpoints?: Omit<WalCheckpointerOptions, 'onFailure'>;
  /** Where a failed checkpoint thread is reported. */
  log?: (line: string) => void;
}

/** The store's database file in its state dir. */
export function storeFile(stateDir: string): string {
  return path.join(stateDir, 'durable.sqlite');
}

/** SQLite's own default, used again if the checkpoint thread fails. */
const AUTOMATIC_CHECKPOINT_PAGES = 1000;

/** SQLite state of the durable engine (WAL). Every method is synchronous; group writes with `tx`. */
export class DurableStore {
  readonly db: Database.Database;
  readonly q: Statements;
  #checkpointer: WalCheckpointer | undefined;

  constructor(stateDir: string, options: DurableStoreOptions = {}) {
    mkdirSync(stateDir, { recursive: true });
    this.db = new Database(storeFile(stateDir));
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL: a commit survives a process kill (it is in the WAL file); only an OS crash or
    // power loss can lose the last transactions. Process kill is what the engine is designed for.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // A store of another format is refused before anything in it changes or any thread starts.
    this.db.exec(META_SCHEMA);
    const format = this.db
      .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'format'")
      .get();
    if (format !== undefined && format.value !== STORE_FORMAT) {
      this.db.close();
      throw new Error(
        `durable.sqlite in ${stateDir} has store format ${format.value}; this devhost needs ${STORE_FORMAT}. ` +
          'Delete durable.sqlite and its -wal and -shm files (the runs in it are lost), or use another state dir.',
      );
    }
    this.db.exec(SCHEMA);
    if (!format) this.db.prepare("INSERT INTO meta VALUES ('format', ?)").run(STORE_FORMAT);
    if (options.backgroundCheckpoints ?? true) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.#checkpointer = new WalCheckpointer(this.db.name, {
        ...options.checkpoints,
        onFailure: (message) => {
          options.log?.(`durable store: WAL checkpoints are back in the commits: ${message}`);
          this.#checkpointer = undefined;
          if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOMATIC_CHECKPOINT_PAGES}`);
        },
      });
    }
    this.q = prepareAll(this.db);
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  readonly #group: { fn: () => unknown; resolve(value: unknown): void; reject(error: unknown): void }[] = [];
  #flushScheduled = false;

  /**
   * Group commit: `fn` runs in one transaction with the others queued in the same turn of the event loop,
   * each in its own savepoint (a throwing `fn` rolls back only itself). The promise settles once the
   * whole group is committed, so nothing is acted on before it is durable. Under load this turns many
   * small commits (each writing whole pages to the WAL) into one.
   */
  groupTx<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#group.push({ fn, resolve: (value) => resolve(value as T), reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const group = this.#group.splice(0);
    if (group.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.transaction(() => {
        for (const entry of group) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(entry.fn)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      for (const entry of group) entry.reject(error);
      return;
    }
    this.#checkpointer?.committed();
    group.forEach((entry, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) entry.resolve(outcome.value);
      else entry.reject(outcome?.error);
    });
  }

  /** Rows in creation order; without `withInput`, their `input` is null and is not read. */
  listInstances(where: string, params: unknown[], limit: number, withInput: boolean): InstanceRow[] {
    const sql = `${withInput ? SELECT_INSTANCES : SELECT_HEADS} ${where} ORDER BY created_ms, instance_id LIMIT ${limit}`;
    return this.db.prepare<unknown[], InstanceRow>(sql).all(...params);
  }

  /** Commits what is queued and closes the database; resolves once the checkpoint thread is gone too. */
  close(): Promise<void> {
    this.#flush();
    this.db.close();
    const checkpointer = this.#checkpointer;
    this.#checkpointer = undefined;
    return checkpointer?.stop() ?? Promise.resolve();
  }
}
