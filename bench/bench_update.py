"""Bench: `mlscaffold update` with one template change, timed beside `cruft update` and `copier update`
on equivalent small templates, in the same run.

Each tool gets the same template (FILES text files of LINES lines in nested folders, plus a README
rendered from the project name), kept in a git repository tagged v1 and v2, where v2 changes one line
of one file. For every repetition, untimed: generate a project from v1, make a user edit in the same
file (a different region) plus a new user file, and commit. Timed: the update command alone, as a
subprocess, the way a user runs it. Afterwards each result is checked: the template change landed and
the user edit survived (a fast update that loses an edit would not count). The "no change" cases time
the same command on projects already at the template's newest version (before v2 is published): the
update finds nothing to do and must leave the user's edit alone. Projects are generated untimed, so the
bytecode of every tool is written (PYTHONPYCACHEPREFIX in the scratch folder, as in bench_new.py) before
any update is timed.

cruft and copier live in a bench-only venv (default /work/benchenv; never the project's):
    python3 -m venv /work/benchenv && /work/benchenv/bin/pip install cruft copier
Run:
    /work/venv/bin/python bench/bench_update.py [--reps 5] [--benchenv /work/benchenv] [--json out.json]
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
from collections.abc import Callable
from pathlib import Path

FILES = 20
LINES = 50
CHANGED = "pkg/mod_05.py"
TEMPLATE_LINE = "VALUE_40 = 'changed by template v2'\n"
USER_LINE = "VALUE_5 = 'edited by the user'\n"


def body(index: int) -> str:
    return "".join(f"VALUE_{n} = {index * 1000 + n}\n" for n in range(1, LINES + 1))


def project_files() -> dict[str, str]:
    files = {
        f"pkg/mod_{i:02d}.py" if i < FILES // 2 else f"docs/part_{i:02d}.txt": body(i) for i in range(FILES)
    }
    return files


def run(
    cmd: list[str], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def git_commit_all(repo: Path, env: dict[str, str], message: str, tag: str | None = None) -> None:
    run(["git", "add", "--all"], repo, env)
    run(["git", "commit", "-q", "--no-verify", "-m", message], repo, env)
    if tag:
        run(["git", "tag", tag], repo, env)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def v2_change(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[39] = TEMPLATE_LINE
    path.write_text("".join(lines))


def user_edit(project: Path, env: dict[str, str]) -> None:
    path = project / CHANGED
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = USER_LINE
    path.write_text("".join(lines))
    (project / "pkg" / "user_code.py").write_text("print('mine')\n")
    git_commit_all(project, env, "user edits")


def verify(project: Path) -> bool:
    text = (project / CHANGED).read_text()
    return TEMPLATE_LINE in text and USER_LINE in text and (project / "pkg" / "user_code.py").is_file()


def verify_unchanged(project: Path) -> bool:
    text = (project / CHANGED).read_text()
    return TEMPLATE_LINE not in text and USER_LINE in text and (project / "pkg" / "user_code.py").is_file()


# ---------------------------------------------------------------------------------------------------
# the three templates, each in its own tool's format


def make_mlscaffold_template(root: Path, env: dict[str, str]) -> Path:
    t = root / "tpl-mlscaffold"
    write(t / "base" / "files", project_files())
    write(t / "base" / "files", {"README.md.jinja": "# {{ project_name }}\n"})
    (t / "base" / "manifest.yaml").write_text("kind: base\nname: base\n")
    manifest = "name: bench\nversion: '{v}'\nbase: base\nstages: []\nquestions:\n"
    manifest += "  - name: project_name\n    prompt: Project name?\n    default: demo\n"
    (t / "template.yaml").write_text(manifest.format(v="1.0"))
    run(["git", "init", "-q"], t, env)
    git_commit_all(t, env, "v1", "v1")
    v2_change(t / "base" / "files" / CHANGED)
    (t / "template.yaml").write_text(manifest.format(v="2.0"))
    git_commit_all(t, env, "v2", "v2")
    run(["git", "checkout", "-q", "v1"], t, env)  # projects are generated from v1
    return t


def make_cruft_template(root: Path, env: dict[str, str]) -> Path:
    t = root / "tpl-cruft"
    inner = t / "{{cookiecutter.project_slug}}"
    write(inner, project_files())
    write(inner, {"README.md": "# {{ cookiecutter.project_name }}\n"})
    (t / "cookiecutter.json").write_text(json.dumps({"project_name": "demo", "project_slug": "demo"}))
    run(["git", "init", "-q"], t, env)
    git_commit_all(t, env, "v1", "v1")
    return t


def make_copier_template(root: Path, env: dict[str, str]) -> Path:
    t = root / "tpl-copier"
    write(t, project_files())
    write(t, {"README.md.jinja": "# {{ project_name }}\n"})
    (t / "copier.yml").write_text("project_name:\n  type: str\n  default: demo\n")
    (t / "{{_copier_conf.answers_file}}.jinja").write_text("{{ _copier_answers|to_nice_yaml -}}\n")
    run(["git", "init", "-q"], t, env)
    git_commit_all(t, env, "v1", "v1.0.0")
    return t


def cruft_v2(t: Path, env: dict[str, str]) -> None:
    v2_change(t / "{{cookiecutter.project_slug}}" / CHANGED)
    git_commit_all(t, env, "v2", "v2")


def copier_v2(t: Path, env: dict[str, str]) -> None:
    v2_change(t / CHANGED)
    git_commit_all(t, env, "v2", "v2.0.0")


# ---------------------------------------------------------------------------------------------------
# one timed case per tool


class Case:
    def __init__(self, name: str, prepare: Callable[[Path], Path], command: list[str]) -> None:
        self.name, self.prepare, self.command = name, prepare, command


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_updates(
    name: str,
    projects: list[Path],
    command: list[str],
    env: dict[str, str],
    check: Callable[[Path], bool] = verify,
) -> dict[str, object]:
    """Wall time and CPU time (the command and every process it starts) per update."""
    times, cpu, ok = [], [], True
    for project in projects:
        cpu_start, start = _children_cpu(), time.perf_counter()
        done = run(command, project, env, check=False)
        times.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - cpu_start)
        if done.returncode != 0:
            raise RuntimeError(
                f"{name}: {' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        ok = ok and check(project)
    return {
        "tool": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "median_cpu_s": statistics.median(cpu),
        "reps": len(projects),
        "edit_kept_and_change_landed": ok,
    }


def bench(reps: int, benchenv: Path) -> list[dict[str, object]]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-update-"))
    try:
        home = scratch / "home"
        home.mkdir()
        gitconfig = home / ".gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.invalid\n[init]\n\tdefaultBranch = main\n"
        )
        env = {
            **os.environ,
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "TMPDIR": str(scratch),
            "MLSCAFFOLD_TEMPLATE": "",
        }
        env.pop("VIRTUAL_ENV", None)
        if env.pop("PYTHONDONTWRITEBYTECODE", None):  # every tool runs from bytecode (see bench_new.py)
            env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        ms_t = make_mlscaffold_template(scratch, env)
        cr_t = make_cruft_template(scratch, env)
        co_t = make_copier_template(scratch, env)

        def ms_prepare(dest: Path) -> Path:
            run(
                [sys.executable, "-m", "mlscaffold", "new", str(dest), "--template", str(ms_t), "--defaults"],
                scratch,
                env,
            )
            user_edit(dest, env)
            return dest

        def cruft_prepare(dest: Path) -> Path:
            dest.mkdir()
            run(
                [
                    str(benchenv / "bin" / "cruft"),
                    "create",
                    str(cr_t),
                    "--no-input",
                    "--output-dir",
                    str(dest),
                ],
                scratch,
                env,
            )
            project = dest / "demo"
            run(["git", "init", "-q"], project, env)
            git_commit_all(project, env, "generated")
            user_edit(project, env)
            return project

        def copier_prepare(dest: Path) -> Path:
            run(
                [
                    str(benchenv / "bin" / "copier"),
                    "copy",
                    "--defaults",
                    "--vcs-ref",
                    "v1.0.0",
                    str(co_t),
                    str(dest),
                ],
                scratch,
                env,
            )
            run(["git", "init", "-q"], dest, env)
            git_commit_all(dest, env, "generated")
            user_edit(dest, env)
            return dest

        # Generate every project from v1 first, then publish v2 in each template.
        work = scratch / "work"
        work.mkdir()
        ms = [sys.executable, "-m", "mlscaffold", "update"]
        cases = [
            Case("mlscaffold update --to v2", ms_prepare, [*ms, "--to", "v2"]),
            Case("mlscaffold update (folder)", ms_prepare, ms),
            Case("cruft update -y", cruft_prepare, [str(benchenv / "bin" / "cruft"), "update", "-y"]),
            Case(
                "copier update --defaults",
                copier_prepare,
                [str(benchenv / "bin" / "copier"), "update", "--defaults"],
            ),
        ]
        cruft_args = ["update", "-y"]
        same = [
            Case("no change: mlscaffold update", ms_prepare, [*ms, "--to", "v1"]),
            Case("no change: cruft update -y", cruft_prepare, [str(benchenv / "bin" / "cruft"), *cruft_args]),
            Case(
                "no change: copier update",
                copier_prepare,
                [str(benchenv / "bin" / "copier"), "update", "--defaults"],
            ),
        ]
        prepared = {
            c.name: [c.prepare(work / f"case{ci}-{i}") for i in range(reps)]
            for ci, c in enumerate(cases + same)
        }
        # No template change yet: each update finds nothing to do (and must keep the user's edit).
        results = [time_updates(c.name, prepared[c.name], c.command, env, verify_unchanged) for c in same]
        run(["git", "checkout", "-q", "v2"], ms_t, env)  # the folder case reads the template's work tree
        cruft_v2(cr_t, env)
        copier_v2(co_t, env)
        return [*(time_updates(c.name, prepared[c.name], c.command, env) for c in cases), *results]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--benchenv", type=Path, default=Path("/work/benchenv"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    for tool in ("cruft", "copier"):
        if not (args.benchenv / "bin" / tool).exists():
            sys.exit(f"error: {args.benchenv}/bin/{tool} missing; see this file's docstring to install it")
    load = os.getloadavg()[0]
    results = bench(args.reps, args.benchenv)
    print(f"update with one template change, then none ({FILES} files x {LINES} lines, {args.reps} reps)")
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores (wall times suffer under load)")
    print(f"{'tool':<34} {'median s':>9} {'min s':>7} {'max s':>7} {'cpu s':>7}  edit kept + change")
    for r in results:
        times = f"{r['median_s']:>9.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} {r['median_cpu_s']:>7.3f}"
        print(f"{r['tool']:<34} {times}  {r['edit_kept_and_change_landed']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
