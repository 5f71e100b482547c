"""Benchmark generated projects: `make all` wall time per task type, and one-row service latency.

For each task type, renders a project with `--defaults` through mlscaffold's API into a temporary
folder, times `make all` on the shipped sample data (one run), then measures the prediction
service: 20 warm-up calls, then N single-row `POST /predict` calls, reporting the median and p99.

    python bench/bench_generated.py                       # all four task types, in-process client
    python bench/bench_generated.py --http                # through a real uvicorn on 127.0.0.1
    python bench/bench_generated.py --task regression --requests 200 --python /path/to/python

The generated project runs with `--python` (default: $MLSCAFFOLD_PROJECT_PYTHON, else this
interpreter), which must have the generated project's dependencies (pandas, scikit-learn, fastapi,
httpx, scipy, matplotlib, ...). Nothing is installed: the project runs from its `src/` folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TASKS = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)
TARGET_MAKE_SECONDS = 30.0

# Runs inside the generated project's interpreter; prints one JSON line of latencies (ms).
LATENCY_IN_PROCESS = r"""
import json, sys, time
from fastapi.testclient import TestClient
from {pkg}.artifacts import load_split
from {pkg}.config import load_config
from {pkg}.predict import feature_frame
from {pkg}.prediction_log import plain
from {pkg}.service import create_app

cfg = load_config("config.yaml")
app = create_app(cfg)
meta = app.state.predictor.meta
frame = feature_frame(meta, load_split(cfg, "test"))
rows = [{{k: plain(v) for k, v in r.items()}} for r in frame.to_dict(orient="records")]
client = TestClient(app)
timings = []
for i in range({warmup} + {requests}):
    body = {{"rows": [rows[i % len(rows)]]}}
    started = time.perf_counter()
    response = client.post("/predict", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"HTTP {{response.status_code}}: {{response.text}}")
    if i >= {warmup}:
        timings.append(elapsed)
print(json.dumps(timings))
"""

# Runs inside the generated project's interpreter against a live server (stdlib client only).
LATENCY_HTTP = r"""
import http.client, json, sys, time
from {pkg}.artifacts import load_split, load_meta
from {pkg}.config import load_config
from {pkg}.predict import feature_frame
from {pkg}.prediction_log import plain

cfg = load_config("config.yaml")
frame = feature_frame(load_meta(cfg), load_split(cfg, "test"))
rows = [{{k: plain(v) for k, v in r.items()}} for r in frame.to_dict(orient="records")]
conn = http.client.HTTPConnection("127.0.0.1", {port}, timeout=10)
timings = []
for i in range({warmup} + {requests}):
    body = json.dumps({{"rows": [rows[i % len(rows)]]}})
    started = time.perf_counter()
    conn.request("POST", "/predict", body=body, headers={{"Content-Type": "application/json"}})
    response = conn.getresponse()
    payload = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        sys.exit(f"HTTP {{response.status}}: {{payload[:300]!r}}")
    if i >= {warmup}:
        timings.append(elapsed)
print(json.dumps(timings))
"""


@dataclass(frozen=True)
class Measurement:
    task: str
    make_all_s: float
    make_ok: bool
    p50_ms: float | None
    p99_ms: float | None
    requests: int


def render(task: str, dest: Path) -> str:
    """Render a --defaults project for `task` into `dest`; return its package name."""
    from mlscaffold import AnswerSources, new_project

    sources = AnswerSources(set_values=(f"task_type={task}",), defaults=True)
    new_project(dest=dest, sources=sources, git=False)
    for line in (dest / "config.yaml").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("package:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise RuntimeError(f"{dest}/config.yaml: no project.package")


def project_env(dest: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dest / "src"), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


def time_make_all(dest: Path, python: str) -> tuple[float, bool]:
    started = time.perf_counter()
    done = subprocess.run(
        ["make", "all", f"PYTHON={python}"],
        cwd=dest,
        env=project_env(dest),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed, done.returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the service did not start listening on port {port}")


def latencies(dest: Path, pkg: str, python: str, requests: int, warmup: int, http: bool) -> list[float]:
    """Single-row /predict latencies in ms, in process or through a real uvicorn server."""
    env = project_env(dest)
    if not http:
        code = LATENCY_IN_PROCESS.format(pkg=pkg, warmup=warmup, requests=requests)
        return _run_probe(python, code, dest, env)
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", pkg, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=dest,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        code = LATENCY_HTTP.format(pkg=pkg, warmup=warmup, requests=requests, port=port)
        return _run_probe(python, code, dest, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _run_probe(python: str, code: str, cwd: Path, env: dict[str, str]) -> list[float]:
    done = subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"latency probe failed: {done.stderr[-2000:]}")
    values = json.loads(done.stdout.strip().splitlines()[-1])
    return [float(v) for v in values]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low, high = int(index), min(int(index) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def bench_task(task: str, python: str, requests: int, warmup: int, http: bool, keep: bool) -> Measurement:
    workdir = Path(tempfile.mkdtemp(prefix=f"mlscaffold-bench-{task}-"))
    dest = workdir / task.replace("_", "-")
    try:
        pkg = render(task, dest)
        make_s, ok = time_make_all(dest, python)
        p50 = p99 = None
        if ok:
            values = latencies(dest, pkg, python, requests, warmup, http)
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        return Measurement(task, make_s, ok, p50, p99, requests)
    finally:
        if keep:
            print(f"kept {dest}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--task", action="append", choices=TASKS, help="repeatable; default: all")
    parser.add_argument(
        "--python",
        default=os.environ.get("MLSCAFFOLD_PROJECT_PYTHON", sys.executable),
        help="interpreter with the generated project's dependencies",
    )
    parser.add_argument("--requests", type=int, default=500, help="timed one-row requests")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up requests")
    parser.add_argument("--http", action="store_true", help="through a real uvicorn server")
    parser.add_argument("--keep", action="store_true", help="keep the rendered projects")
    args = parser.parse_args(argv)
    mode = "uvicorn on 127.0.0.1" if args.http else "in-process TestClient"
    print(
        f"python: {args.python}; latency: {args.requests} one-row requests after "
        f"{args.warmup} warm-up, {mode}"
    )
    print(f"{'task':<27} {'make all (s)':>12} {'p50 (ms)':>9} {'p99 (ms)':>9}")
    failed = False
    for task in args.task or TASKS:
        m = bench_task(task, args.python, args.requests, args.warmup, args.http, args.keep)
        p50 = f"{m.p50_ms:9.2f}" if m.p50_ms is not None else f"{'-':>9}"
        p99 = f"{m.p99_ms:9.2f}" if m.p99_ms is not None else f"{'-':>9}"
        flag = "" if m.make_ok else "  make all FAILED"
        flag += "  (over the 30 s target)" if m.make_all_s > TARGET_MAKE_SECONDS else ""
        print(f"{m.task:<27} {m.make_all_s:12.1f} {p50} {p99}{flag}", flush=True)
        failed |= not m.make_ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
