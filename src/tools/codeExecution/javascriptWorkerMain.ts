import type * as NodeFs from 'node:fs';
import type * as WorkerThreads from 'node:worker_threads';
import type * as QuickJS from 'quickjs-emscripten';
import type { CustomizeVariantOptions, QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import type { WorkerData, WorkerOutcome, WorkerReply, WorkerRunMessage } from './javascriptWorkerProtocol.js';
import type { SandboxErrorKind } from './types.js';

/** Opaque `WebAssembly.Module` / `WebAssembly.Memory` (this project's `lib` has no WebAssembly types). */
interface WasmGlobal {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Memory: new (descriptor: { initial: number; maximum: number }) => object;
  };
}

/**
 * Runs inside a worker thread. It is shipped to the worker as source text (`toString()`), so it
 * must be self-contained: no references to module scope, only `require` of absolute paths passed
 * in workerData. That keeps one code path for ts (vitest) and compiled js (dist). For the same
 * reason every import in this file is type-only: nothing here may be needed at run time.
 */
export function sandboxWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const threads = require('node:worker_threads') as typeof WorkerThreads;
  const { readFileSync } = require('node:fs') as typeof NodeFs;
  const parentPort = threads.parentPort;
  const data = threads.workerData as WorkerData;
  const qjs = require(data.quickjsPath) as typeof QuickJS;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const variant = data.variant === 'debug' ? qjs.DEBUG_SYNC : qjs.RELEASE_SYNC;
  const safeName = new RegExp(data.safeFileName);
  let compiled: object | undefined;

  // The prelude runs first in every context. Host functions arrive as arguments and stay in
  // closures, so user code never sees them on globalThis.
  const PRELUDE = `(function (emit, write, filesJson) {
    'use strict';
    const stringify = JSON.stringify;
    const fmt = (v) => {
      if (typeof v === 'string') return v;
      if (v instanceof Error) return String(v.stack ? v.name + ': ' + v.message + '\\n' + v.stack : v);
      if (typeof v === 'object' && v !== null) { try { return stringify(v); } catch { return String(v); } }
      return String(v);
    };
    const line = (stream) => (...args) => { emit(stream, args.map(fmt).join(' ')); };
    const console = Object.freeze({
      log: line('stdout'), info: line('stdout'), debug: line('stdout'),
      warn: line('stderr'), error: line('stderr'),
    });
    const files = Object.freeze(JSON.parse(filesJson));
    const writeFile = (name, content, encoding) => {
      if (typeof name !== 'string') throw new TypeError('writeFile: name must be a string');
      if (typeof content !== 'string') content = fmt(content);
      if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'base64')
        throw new TypeError("writeFile: encoding must be 'utf8' or 'base64'");
      write(name, content, encoding === 'base64' ? 'base64' : 'utf8');
    };
    for (const [k, v] of [['console', console], ['files', files], ['writeFile', Object.freeze(writeFile)]])
      Object.defineProperty(globalThis, k, { value: v, writable: false, configurable: false, enumerable: false });
    return (value) => (value === undefined ? undefined : stringify(value));
  })`;

  function describe(ctx: QuickJSContext, handle: QuickJSHandle): { name: string; text: string } {
    const dumped: unknown = ctx.dump(handle);
    if (dumped && typeof dumped === 'object') {
      const e = dumped as { name?: unknown; message?: unknown; stack?: unknown };
      const name = typeof e.name === 'string' ? e.name : 'Error';
      const message = typeof e.message === 'string' ? e.message : JSON.stringify(dumped);
      let frames = typeof e.stack === 'string' ? e.stack.trimEnd().split('\n') : [];
      if (frames.length > 12) frames = [...frames.slice(0, 10), `    … ${frames.length - 10} more frames`];
      const stack = frames.length > 0 && frames.join('').trim() ? `\n${frames.join('\n')}` : '';
      return { name, text: `${name}: ${message}${stack}` };
    }
    return { name: 'Error', text: `Uncaught ${String(dumped)}` };
  }

  async function run(msg: WorkerRunMessage): Promise<WorkerOutcome> {
    const L = msg.limits;
    const deadline = Date.now() + L.timeoutMs;
    const out = { stdout: [] as string[], stderr: [] as string[] };
    let outBytes = 0;
    let overflow = false;
    let timedOut = false;
    const files: { name: string; bytes: Uint8Array }[] = [];
    let fileBytes = 0;
    let filesTruncated = false;
    const outcome = (partial: Partial<WorkerOutcome>): WorkerOutcome => ({
      ok: true,
      stdout: out.stdout.join(''),
      stderr: out.stderr.join(''),
      files,
      truncated: overflow || filesTruncated,
      ...partial,
    });
    const take = (stream: 'stdout' | 'stderr', text: string): boolean => {
      if (overflow) return false;
      const bytes = Buffer.byteLength(text);
      if (outBytes + bytes > L.maxOutputBytes) {
        const room = L.maxOutputBytes - outBytes;
        out[stream].push(Buffer.from(text).subarray(0, Math.max(0, room)).toString('utf8'));
        outBytes = L.maxOutputBytes;
        overflow = true;
        return false;
      }
      out[stream].push(text);
      outBytes += bytes;
      return true;
    };

    const wasm = (globalThis as unknown as WasmGlobal).WebAssembly;
    compiled ??= new wasm.Module(readFileSync(data.wasmPath));
    // A fresh WebAssembly instance per call: no linear memory is shared between calls. The memory
    // is capped too, because ArrayBuffer storage is not counted by QuickJS's own memory limit.
    const pages = (bytes: number) => Math.ceil(bytes / 65536);
    // The debug build needs far more room for its own bookkeeping.
    const headroom = (data.variant === 'debug' ? 512 : 32) * 2 ** 20;
    const wasmMemory = new wasm.Memory({
      initial: 256,
      maximum: Math.max(256, pages(L.memoryBytes + headroom)),
    });
    const quickjs = await qjs.newQuickJSWASMModuleFromVariant(
      qjs.newVariant(variant, {
        wasmModule: compiled,
        wasmMemory,
        // Emscripten would print allocation failures to the worker's stderr; they are reported as OOM.
        emscriptenModule: { print: () => undefined, printErr: () => undefined },
      } as CustomizeVariantOptions),
    );
    const rt = quickjs.newRuntime();
    let ctx: QuickJSContext | undefined;
    try {
      rt.setMemoryLimit(L.memoryBytes);
      rt.setMaxStackSize(L.maxStackBytes);
      rt.setInterruptHandler(() => {
        if (overflow) return true;
        if (Date.now() > deadline) timedOut = true;
        return timedOut;
      });
      const c = rt.newContext();
      ctx = c;
      const emit = c.newFunction('emit', (streamH, textH) => {
        const stream = c.getString(streamH) === 'stderr' ? 'stderr' : 'stdout';
        const text = c.typeof(textH) === 'string' ? c.getString(textH) : '';
        take(stream, `${text}\n`);
      });
      const write = c.newFunction('write', (nameH, contentH, encH) => {
        const name = c.getString(nameH);
        const content = c.getString(contentH);
        const encoding = c.getString(encH) === 'base64' ? 'base64' : 'utf8';
        if (!safeName.test(name)) {
          throw new Error(
            `writeFile: invalid file name ${JSON.stringify(name)} (letters, digits, . _ - only)`,
          );
        }
        const bytes = Buffer.from(content, encoding);
        const existing = files.findIndex((f) => f.name === name);
        const previous = existing >= 0 ? (files[existing]?.bytes.length ?? 0) : 0;
        if (existing < 0 && files.length >= L.maxArtifacts) {
          filesTruncated = true;
          throw new Error(`writeFile: at most ${L.maxArtifacts} files may be written`);
        }
        if (fileBytes - previous + bytes.length > L.maxArtifactBytes) {
          filesTruncated = true;
          throw new Error(`writeFile: files may total at most ${L.maxArtifactBytes} bytes`);
        }
        fileBytes += bytes.length - previous;
        if (existing >= 0) files.splice(existing, 1);
        files.push({ name, bytes: new Uint8Array(bytes) });
      });
      const preludeFn = c.unwrapResult(c.evalCode(PRELUDE, 'prelude.js'));
      const filesJson = c.newString(JSON.stringify(msg.files));
      const toJson = c.unwrapResult(c.callFunction(preludeFn, c.undefined, emit, write, filesJson));
      for (const h of [preludeFn, filesJson, emit, write]) h.dispose();

      try {
        const syntax = c.evalCode(msg.code, 'main.js', { compileOnly: true });
        if (syntax.error) {
          const { text } = describe(c, syntax.error);
          syntax.error.dispose();
          return outcome({ ok: false, errorKind: 'syntax_error', errorMessage: text });
        }
        syntax.value.dispose();

        const stopped = (): WorkerOutcome | undefined => {
          if (overflow)
            return outcome({
              ok: false,
              errorKind: 'output_too_large',
              errorMessage: `Output exceeded ${L.maxOutputBytes} bytes; execution was stopped.`,
            });
          if (timedOut)
            return outcome({
              ok: false,
              errorKind: 'timeout',
              errorMessage: `Execution exceeded the ${L.timeoutMs} ms time limit and was stopped.`,
            });
          return undefined;
        };
        const classify = (errorHandle: QuickJSHandle): WorkerOutcome => {
          const { text } = describe(c, errorHandle);
          errorHandle.dispose();
          const limit = stopped();
          if (limit) return limit;
          // QuickJS caps a string at 2^30 - 1 characters ("string too long", JS_STRING_LEN_MAX in quickjs.c)
          // before the heap limit is reached: the same runaway growth as running out of memory.
          if (/out of memory|string too long/i.test(text))
            return outcome({
              ok: false,
              errorKind: 'out_of_memory',
              errorMessage: /string too long/i.test(text)
                ? 'Out of memory: a string grew past the largest the sandbox allows (2^30 - 1 characters).'
                : `Out of memory: the ${Math.round(L.memoryBytes / 2 ** 20)} MB limit was reached.`,
            });
          return outcome({ ok: false, errorKind: 'runtime_error', errorMessage: text });
        };

        const evaluated = c.evalCode(msg.code, 'main.js');
        if (evaluated.error) return classify(evaluated.error);
        let value = evaluated.value;
        for (;;) {
          const jobs = rt.executePendingJobs();
          if (jobs.error) {
            value.dispose();
            return classify(jobs.error);
          }
          const executed = jobs.value;
          const state = c.getPromiseState(value);
          if (state.type === 'rejected') {
            value.dispose();
            return classify(state.error);
          }
          if (state.type === 'fulfilled') {
            if (state.value !== value) {
              value.dispose();
              value = state.value;
            }
            if (state.notAPromise || executed === 0) break;
            continue;
          }
          if (executed === 0) {
            value.dispose();
            // The time limit interrupts a job loop (`for (;;) await null`) and leaves the promise pending.
            const limit = stopped();
            if (limit) return limit;
            return outcome({
              ok: false,
              errorKind: 'runtime_error',
              errorMessage:
                'The result is a promise that never settles (there are no timers or I/O in this sandbox).',
            });
          }
        }
        const json = c.callFunction(toJson, c.undefined, value);
        value.dispose();
        if (json.error) {
          const { text } = describe(c, json.error);
          json.error.dispose();
          return (
            stopped() ??
            outcome({
              ok: false,
              errorKind: 'runtime_error',
              errorMessage: `The result value is not JSON-serializable: ${text}`,
            })
          );
        }
        const resultJson = c.typeof(json.value) === 'string' ? c.getString(json.value) : undefined;
        json.value.dispose();
        const limit = stopped();
        if (limit) return limit;
        if (resultJson !== undefined && outBytes + Buffer.byteLength(resultJson) > L.maxOutputBytes) {
          overflow = true;
          return outcome({
            ok: false,
            errorKind: 'output_too_large',
            errorMessage: `The result value exceeded the ${L.maxOutputBytes}-byte output limit.`,
          });
        }
        return outcome(resultJson === undefined ? {} : { resultJson });
      } finally {
        toJson.dispose();
      }
    } finally {
      ctx?.dispose();
      rt.dispose();
    }
  }

  parentPort?.on('message', (msg: WorkerRunMessage) => {
    run(msg).then(
      (outcome) => parentPort.postMessage({ id: msg.id, outcome } satisfies WorkerReply),
      (error: unknown) => {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        // A failure outside QuickJS's own checks (e.g. the native stack overflowed inside WASM):
        // report it, and let the host retire this worker.
        // Allocation failures can surface as a WASM trap rather than QuickJS's own "out of memory".
        const kind: SandboxErrorKind = /out of memory|memory access out of bounds|enlarge memory/i.test(text)
          ? 'out_of_memory'
          : 'runtime_error';
        parentPort.postMessage({
          id: msg.id,
          outcome: {
            ok: false,
            errorKind: kind,
            errorMessage: `The sandbox stopped: ${text}`,
            stdout: '',
            stderr: '',
            files: [],
            truncated: false,
          },
          fatal: true,
        } satisfies WorkerReply);
      },
    );
  });
}
