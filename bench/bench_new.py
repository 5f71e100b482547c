"""Bench: generating a project from the same 7-file template with mlscaffold, copier and cookiecutter.

Usage: python bench/bench_new.py [--runs N]
mlscaffold is the one on PATH (pip install .); copier and cookiecutter live in the bench's own virtual
environment (bench/.venv-peers, made on first use, as in bench_startup.py). Each tool renders the same
seven files (four of them templates) from the same one answer into a fresh folder, N times. Prints the
median wall time and the median CPU time (user + sys of the child; steadier than wall time on a busy
machine) for each tool, the ratio mlscaffold / copier (target: at most 0.5) and, for scale, mlscaffold's
own built-in template (`new --defaults --no-git`: about a hundred templates). The first run of each tool is
not counted: it warms the caches of every tool, mlscaffold's being the compiled templates and the files
that passed their schema (`~/.cache/mlscaffold`, under the bench's own HOME), as on a user's second `new`
from a template; a first-ever run costs mlscaffold ~0.05 s more (jsonschema, Jinja's compilation).

Bytecode: a pip-installed tool runs from the .pyc files pip compiled; an editable install (`pip install
-e .`) has none, so under PYTHONDONTWRITEBYTECODE=1 every run of it would compile its modules from source
(~60 ms of mlscaffold's time, none of copier's). The bench therefore drops PYTHONDONTWRITEBYTECODE for the
tools it runs and points PYTHONPYCACHEPREFIX at its scratch folder: the uncounted first run writes the
bytecode there for every tool alike; nothing is written beside the sources.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers"

FILES = {
    "README.md": "# {{ NAME }}\n\nA demo project called {{ NAME }}.\n",
    "pyproject.toml": '[project]\nname = "{{ NAME }}"\nversion = "0.1.0"\n',
    "src/pkg/__init__.py": '"""{{ NAME }}."""\n__version__ = "0.1.0"\n',
    "Makefile": "all:\n\t@echo {{ NAME }}\n",
    "LICENSE": "MIT License\n\nCopyright (c) the authors\n",
    ".gitignore": "__pycache__/\n.venv/\n",
    "data/.gitkeep": "",
}
TEMPLATED = ("README.md", "pyproject.toml", "src/pkg/__init__.py", "Makefile")


def peers() -> Path:
    bin_dir = PEERS / "bin"
    if not (bin_dir / "copier").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "cookiecutter", "copier"], check=True)
    return bin_dir


def write_files(root: Path, var: str, suffix: str) -> None:
    for rel, text in FILES.items():
        name = rel + (suffix if rel in TEMPLATED else "")
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("NAME", var))


def make_templates(root: Path) -> dict[str, Path]:
    mls = root / "mls"
    (mls / "base" / "files").mkdir(parents=True)
    (mls / "template.yaml").write_text(
        "name: bench\nversion: '1'\nbase: base\nstages: []\nquestions:\n"
        "  - {name: project_name, prompt: 'Name?', help: 'The name.', default: demo}\n"
    )
    (mls / "base" / "manifest.yaml").write_text("kind: base\nname: base\n")
    write_files(mls / "base" / "files", "project_name", ".jinja")
    cop = root / "copier"
    cop.mkdir()
    (cop / "copier.yml").write_text("project_name:\n  type: str\n  default: demo\n")
    write_files(cop, "project_name", ".jinja")
    cc = root / "cookiecutter"
    (cc / "{{cookiecutter.project_name}}").mkdir(parents=True)
    (cc / "cookiecutter.json").write_text(json.dumps({"project_name": "demo"}))
    write_files(cc / "{{cookiecutter.project_name}}", "cookiecutter.project_name", "")
    return {"mlscaffold": mls, "copier": cop, "cookiecutter": cc}


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def commands(tools: dict[str, Path], out: Path, bin_dir: Path, mls: str) -> dict[str, list[str]]:
    return {
        "mlscaffold": [mls, "new", str(out / "m"), "--template", str(tools["mlscaffold"]), "--defaults",
                       "--no-git"],
        "copier": [str(bin_dir / "copier"), "copy", "--defaults", "--quiet", str(tools["copier"]),
                   str(out / "c")],
        "cookiecutter": [str(bin_dir / "cookiecutter"), "--no-input", "-o", str(out / "k"),
                         str(tools["cookiecutter"])],
        "mlscaffold (built-in)": [mls, "new", str(out / "b"), "--defaults", "--no-git"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    mls = shutil.which("mlscaffold")
    if mls is None:
        sys.exit("error: mlscaffold is not on PATH; pip install . first")
    bin_dir = peers()
    with tempfile.TemporaryDirectory(prefix="bench-new-") as scratch:
        root = Path(scratch)
        tools = make_templates(root / "templates")
        env = {**os.environ, "HOME": str(root / "home"), "GIT_CONFIG_NOSYSTEM": "1"}
        if env.pop("PYTHONDONTWRITEBYTECODE", None):  # every tool runs from bytecode, as once installed
            env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        results: dict[str, tuple[float, float]] = {}
        for n, name in enumerate(commands(tools, root, bin_dir, mls)):
            walls, cpus = [], []
            for i in range(runs + 1):  # the first run warms caches (theirs and ours) and is not counted
                out = root / f"out-{n}-{i}"
                out.mkdir()
                wall, cpu = timed(commands(tools, out, bin_dir, mls)[name], out, env)
                if i:
                    walls.append(wall)
                    cpus.append(cpu)
            results[name] = (statistics.median(walls), statistics.median(cpus))
            print(f"{name:<24} wall {results[name][0]:6.3f} s   cpu {results[name][1]:6.3f} s", flush=True)
    wall_ratio = results["mlscaffold"][0] / results["copier"][0]
    cpu_ratio = results["mlscaffold"][1] / results["copier"][1]
    print(f"mlscaffold / copier: wall {wall_ratio:.2f}, cpu {cpu_ratio:.2f} (target <= 0.5)")
    print(f"mlscaffold / cookiecutter: wall {results['mlscaffold'][0] / results['cookiecutter'][0]:.2f}")


if __name__ == "__main__":
    main()
