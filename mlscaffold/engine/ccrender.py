"""Rendering a cookiecutter template with the `cookiecutter` library itself, exactly as
`cookiecutter --no-input` renders it: `generate_context` with the answers as its extra context,
`prompt_for_config(no_input=True)` for the derived and private variables, then `generate_files` into a
scratch folder. The files come back as `FileSpec`s (bytes and mode), so the engine's guarantees
(all-or-nothing, nothing outside the destination, the record) hold around them.

The library changes the working directory and `sys.path` (for `_extensions` next to the template) and
builds its own Jinja environment, so the rendering runs in a child Python process: the parent's state is
never touched, the child is bounded in time and file size (P11), and an untrusted template renders there
in a sandboxed copy of cookiecutter's environment (P3); hooks and `_extensions` of the template's own
run only when trusted. The user's `~/.cookiecutterrc` and replay folder are neither read nor written, so
the rendering depends on the answers alone.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscaffold.errors import TemplateError

# cookiecutter's own extensions, loaded for every template: not template code.
DEFAULT_EXTENSIONS = (
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.RandomStringExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.TimeExtension",
    "cookiecutter.extensions.UUIDExtension",
)
UNTRUSTED_SECONDS = 60.0
TRUSTED_SECONDS = 900.0  # hooks may install things
# Left by hooks, never files of the project: git's folder, caches, tool environments (a hook that runs
# `tox` or makes a virtual environment).
_SKIP_DIRS = frozenset({".git", "__pycache__", ".tox", ".nox"})


@dataclass(frozen=True)
class Rendered:
    """What cookiecutter wrote: each file's bytes and mode, and the context it rendered with."""

    files: dict[str, tuple[bytes, int]]
    context: dict[str, Any]
    project_dir: str  # the rendered name of the template's `{{ cookiecutter.* }}` folder


def own_extensions(config: Mapping[str, Any]) -> list[str]:
    """The `_extensions` of a cookiecutter.json that are not cookiecutter's own: template code."""
    listed = config.get("_extensions") or []
    return [str(e) for e in listed if str(e) not in DEFAULT_EXTENSIONS] if isinstance(listed, list) else []


def render_cookiecutter(
    template: Path,
    extra_context: Mapping[str, Any],
    *,
    trusted: bool,
    hooks: bool,
    output_dir: Path | None = None,
) -> Rendered:
    """Render `template` with cookiecutter as `cookiecutter --no-input -o OUTPUT_DIR TEMPLATE k=v...`
    would, `extra_context` being the answers. `hooks` runs its pre/post generation hooks (only when
    `trusted`). Errors are TemplateErrors naming the template file at fault."""
    scratch = Path(tempfile.mkdtemp(prefix="mlscaffold-cookiecutter-"))
    try:
        out = scratch / "out"
        out.mkdir()
        request = {
            "template": str(template),
            "output_dir": str(out),
            "shown_output_dir": str((output_dir or Path.cwd()).absolute()),
            "extra_context": dict(extra_context),
            "trusted": trusted,
            "hooks": hooks and trusted,
            "result": str(scratch / "result.json"),
        }
        done = _run_child(request, scratch, template)
        result = json.loads((scratch / "result.json").read_text(encoding="utf-8"))
        result["stderr"] = done.stderr
        if "error" in result:
            raise TemplateError(str(result["error"]) + _last_words(result.get("stderr", "")))
        project = Path(result["project_dir"])
        return Rendered(dict(_read_tree(project)), result["context"], project.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _last_words(stderr: str) -> str:
    """What a failing hook said last (its own error, not cookiecutter's traceback around it)."""
    said = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip()
        and not line.startswith((" ", "Traceback"))
        and "Stopping generation" not in line
        and "FailedHookException" not in line
        and not line.startswith("Hook script failed")
    ]
    return f" ({said[-1][:300]})" if said else ""


def _run_child(request: dict[str, Any], scratch: Path, template: Path) -> subprocess.CompletedProcess[str]:
    package_parent = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
    }
    env["MLSCAFFOLD_CC_FSIZE"] = str(64 * 2**20 + 2 * _tree_size(template))
    # cookiecutter leaves each rendered hook in a temporary file: keep them in the scratch folder (P15)
    (scratch / "tmp").mkdir()
    env["TMPDIR"] = str(scratch / "tmp")
    seconds = TRUSTED_SECONDS if request["hooks"] else UNTRUSTED_SECONDS
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mlscaffold.engine.ccrender"],
            input=json.dumps(request, default=str),
            capture_output=True,
            text=True,
            cwd=scratch,
            env=env,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise TemplateError(f"{template}: cookiecutter took longer than {seconds:.0f} s; stopped") from err
    if done.returncode != 0 or not (scratch / "result.json").is_file():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit {done.returncode}"
        if done.returncode in (-25, 153):  # SIGXFSZ: a file over the size limit
            why = "a rendered file is larger than the template allows (P11)"
        raise TemplateError(f"{template}: cookiecutter stopped: {why}")
    return done


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def _read_tree(root: Path) -> Iterator[tuple[str, tuple[bytes, int]]]:
    """Every file cookiecutter (and its hooks) left, by POSIX path; a `.git` a hook made is not a file of
    the project, and a symlink is refused (P1)."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not _is_environment(here / d))
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise TemplateError(
                    f"{rel}: the cookiecutter output holds a symlink (made by a hook?); refused"
                )
            yield rel, (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))


def _is_environment(folder: Path) -> bool:
    """A virtual environment a hook made (it holds pyvenv.cfg)."""
    return (folder / "pyvenv.cfg").is_file()


# ---------------------------------------------------------------------------------------------------
# the child process


def _child_main() -> None:
    """Read a request on stdin, render, write the result (or one error) as JSON to `result`."""
    import resource

    limit = int(os.environ.get("MLSCAFFOLD_CC_FSIZE", "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    request = json.loads(sys.stdin.read())
    try:
        result: dict[str, Any] = _child_render(request)
    except _Failure as err:
        result = {"error": str(err)}
    Path(request["result"]).write_text(json.dumps(result, default=str), encoding="utf-8")


class _Failure(Exception):
    pass


class _Where:
    """The template file cookiecutter is working on, for the error message."""

    current = "cookiecutter.json"


def _child_render(request: dict[str, Any]) -> dict[str, Any]:
    import cookiecutter.generate as generate
    import cookiecutter.hooks as cc_hooks
    import cookiecutter.prompt as prompt
    import cookiecutter.utils as utils

    template = Path(request["template"])
    if not request["trusted"]:
        for module in (generate, cc_hooks, prompt, utils):
            module.create_env_with_context = _sandboxed_env
    else:
        sys.path.append(str(template))  # `_extensions` next to the template, as cookiecutter's main does
    _follow_files(generate)
    try:
        context = generate.generate_context(
            context_file=str(template / "cookiecutter.json"), extra_context=request["extra_context"]
        )
        context["_cookiecutter"] = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
        context["cookiecutter"].update(prompt.prompt_for_config(context, no_input=True))
        context["cookiecutter"].update(
            _template=str(template),
            _output_dir=request["shown_output_dir"],
            _repo_dir=str(template),
            _checkout=None,
        )
        _check_paths(template, context, utils.create_env_with_context(context))
        _Where.current = "{{cookiecutter.*}} folder"
        project = generate.generate_files(
            repo_dir=str(template),
            context=context,
            output_dir=request["output_dir"],
            accept_hooks=request["hooks"],
        )
    except _Failure:
        raise
    except Exception as err:  # every failure of the template becomes one message naming its file
        raise _Failure(f"{template / _Where.current}: {_describe(err)}") from err
    return {"project_dir": project, "context": context}


def _check_paths(template: Path, context: dict[str, Any], env: Any) -> None:
    """Every path of the template, rendered as cookiecutter renders it, stays inside the project
    folder (P1): no absolute path, no `..`, no `.git`, through names or answers. Symlinks are refused
    (P2: the template is read from inside its folder only)."""
    from cookiecutter.find import find_template

    inner = find_template(template, env)
    for dirpath, dirnames, filenames in os.walk(template):
        for name in [*dirnames, *filenames]:
            if Path(dirpath, name).is_symlink():
                raise _Failure(f"{Path(dirpath, name)}: a template may not contain symlinks")
    for dirpath, dirnames, filenames in os.walk(inner):
        for name in [*dirnames, *filenames]:
            rel = os.path.relpath(os.path.join(dirpath, name), template)
            _Where.current = rel
            rendered = env.from_string(rel).render(**context)
            parts = rendered.replace("\\", "/").split("/")
            if rendered.startswith(("/", "\\")) or ".." in parts or ".git" in parts or "\x00" in rendered:
                raise _Failure(f"{template / rel}: renders to an unsafe path {rendered!r}")


def _follow_files(generate: Any) -> None:
    """Wrap cookiecutter's per-file and per-hook steps to know which template file is at fault."""
    render_file = generate.generate_file
    run_hook = generate.run_hook_from_repo_dir

    def generate_file(project_dir: str, infile: str, *args: Any, **kwargs: Any) -> None:
        _Where.current = os.path.normpath(os.path.join(_template_dir_name(), infile))
        render_file(project_dir, infile, *args, **kwargs)

    def run_hook_from_repo_dir(repo_dir: str, hook_name: str, *args: Any, **kwargs: Any) -> None:
        _Where.current = f"hooks/{hook_name} hook"
        run_hook(repo_dir, hook_name, *args, **kwargs)

    generate.generate_file = generate_file
    generate.run_hook_from_repo_dir = run_hook_from_repo_dir


def _template_dir_name() -> str:
    """The `{{ cookiecutter.* }}` folder: generate_files works inside it."""
    return Path.cwd().name


def _describe(err: BaseException) -> str:
    import jinja2

    inner = getattr(err, "error", None)
    if isinstance(err, jinja2.TemplateSyntaxError):
        return f"template syntax error on line {err.lineno}: {err.message}"
    if isinstance(inner, jinja2.UndefinedError):
        return f"{getattr(err, 'message', '')}: {inner.message}".lstrip(": ")
    if isinstance(err, jinja2.exceptions.SecurityError):
        return f"refused by the sandbox (pass --trust if you trust this template): {err}"
    name = type(err).__name__
    text = str(err).split("\n")[0]
    return f"{name}: {text}" if text else name


def _sandboxed_env(context: dict[str, Any]) -> Any:
    """cookiecutter's StrictEnvironment (its default extensions, the `_jinja2_env_vars`), sandboxed and
    bounded like mlscaffold's own environment."""
    import jinja2
    from cookiecutter.environment import ExtensionLoaderMixin

    from mlscaffold.engine.jinja_env import BoundedSandbox, bounded_range, bounded_replace

    class SandboxedStrictEnvironment(ExtensionLoaderMixin, BoundedSandbox):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(undefined=jinja2.StrictUndefined, **kwargs)

    envvars = context.get("cookiecutter", {}).get("_jinja2_env_vars", {})
    env = SandboxedStrictEnvironment(context=context, keep_trailing_newline=True, **envvars)
    env.globals["range"] = bounded_range
    env.filters["replace"] = bounded_replace
    return env


if __name__ == "__main__":
    _child_main()
