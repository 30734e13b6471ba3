import { it } from 'vitest';
import { JavaScriptSandbox } from '../../../../src/tools/codeExecution/javascriptSandbox.js';

const limits = { timeoutMs: 500, memoryMb: 16, maxOutputBytes: 1000, maxArtifactBytes: 1000, maxArtifacts: 3 };
it('scratch', async () => {
  const sb = new JavaScriptSandbox({ poolSize: 1 });
  for (const code of [
    '1+1',
    'console.log("hi", {a:1}); writeFile("a.csv", "x,y\\n1,2"); ({n: files["in.csv"].length})',
    'while(true){}',
    'let a=[]; while(true) a.push("x".repeat(1000)+a.length)',
    'function f(){return f()+1} f()',
    'syntax error here',
    'throw new TypeError("boom")',
    'throw 5',
    '[typeof process, typeof require, typeof globalThis.fetch, typeof std, typeof os, Object.getOwnPropertyNames(globalThis).join(",")]',
    '(async () => { await null; return 42 })()',
    'new Promise(() => {})',
    'while(true) console.log("spam")',
    'const o = {}; o.o = o; o',
    '"y".repeat(5000)',
  ]) {
    const t = performance.now();
    const r = await sb.run({ code, files: [{ name: 'in.csv', bytes: Buffer.from('a,b\n1,2\n') }], limits });
    console.log(code.slice(0, 30), (performance.now() - t).toFixed(1), JSON.stringify({ ...r, stdout: r.stdout.slice(0, 80), files: r.files.map((f) => [f.name, f.bytes.toString()]) }));
  }
  await sb.close();
});
