/**
 * Runs first inside the sandbox (as `python3 -I -S boot.py <config>`): checks syntax, runs the
 * user's code in a child process under rlimits, kills anything the code left behind, then streams
 * `out/` to the host over fd 3 as JSON lines. The code's child never holds fd 3.
 */
export const BOOT_PY = String.raw`
import json, os, signal, subprocess, sys, base64, resource
cfg = json.loads(sys.argv[1])
def send(obj):
    data = memoryview((json.dumps(obj) + "\n").encode())
    while data:
        data = data[os.write(3, data):]
try:
    import ctypes
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE=0: the code cannot open /proc/<us>/fd/3
except Exception:
    pass
try:
    with open("/sandbox/main.py", encoding="utf-8") as f:
        compile(f.read(), "main.py", "exec", dont_inherit=True)
except (SyntaxError, ValueError) as e:
    import traceback
    send({"t": "status", "syntax": "".join(traceback.format_exception_only(type(e), e)).strip()})
    sys.exit(0)
def limits():
    cpu = cfg["cpuSeconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["addressSpaceBytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (cfg["maxProcesses"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["maxFileBytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
child = subprocess.Popen(
    [sys.executable, "-I", "-u", "/sandbox/runner.py"],
    stdin=subprocess.DEVNULL, close_fds=True, preexec_fn=limits, cwd="/work",
)
code = child.wait()
try:
    os.kill(-1, signal.SIGKILL)  # everything the code started, in this PID namespace, except us
except (ProcessLookupError, PermissionError):
    pass
runner = None
try:
    with open("/tmp/.run_code_status.json", "rb") as f:
        runner = json.loads(f.read(cfg["maxStatusBytes"]))
except Exception:
    pass
count, total, truncated = 0, 0, False
for name in sorted(os.listdir("/work/out")) if os.path.isdir("/work/out") else []:
    p = os.path.join("/work/out", name)
    try:
        st = os.lstat(p)
    except OSError:
        continue
    if not os.path.isfile(p) or os.path.islink(p):
        continue
    if count >= cfg["maxArtifacts"] or total + st.st_size > cfg["maxArtifactBytes"]:
        truncated = True
        continue
    with open(p, "rb") as f:
        data = f.read(cfg["maxArtifactBytes"] - total + 1)
    if total + len(data) > cfg["maxArtifactBytes"]:
        truncated = True
        continue
    count, total = count + 1, total + len(data)
    send({"t": "file", "name": name, "b64": base64.b64encode(data).decode()})
send({"t": "status", "exit": code, "runner": runner, "filesTruncated": truncated})
`;

/** The code's own process: runs main.py like a notebook cell (the last expression is the result). */
export const RUNNER_PY = String.raw`
import ast, json, sys, traceback
STATUS = "/tmp/.run_code_status.json"
def report(obj):
    with open(STATUS, "w") as f:
        json.dump(obj, f)
with open("/sandbox/main.py", encoding="utf-8") as f:
    source = f.read()
tree = ast.parse(source, "main.py")
last = None
if tree.body and isinstance(tree.body[-1], ast.Expr):
    last = ast.Expression(tree.body.pop().value)
scope = {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__}
sys.argv = ["main.py"]
try:
    exec(compile(tree, "main.py", "exec"), scope)
    value = eval(compile(last, "main.py", "eval"), scope) if last is not None else None
    if value is None:
        report({"ok": True})
    else:
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            text = json.dumps(repr(value))
        report({"ok": True, "result": text})
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    report({"ok": code == 0, "error": "SystemExit", "message": "exit status %d" % code})
    sys.stdout.flush()
    raise
except MemoryError:
    scope.clear()
    report({"ok": False, "error": "MemoryError", "message": "out of memory"})
    sys.stderr.write("MemoryError\n")
    sys.exit(1)
except BaseException as e:
    traceback.print_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None)
    report({"ok": False, "error": type(e).__name__, "message": str(e)[:2000]})
    sys.exit(1)
`;
