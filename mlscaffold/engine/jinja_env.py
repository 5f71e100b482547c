"""The Jinja2 environments templates render in: sandboxed, bounded, and fenced to the template root.

Promises kept here: P2 (no reads outside the template root), P3 (untrusted templates render in a
sandbox, extensions only with trust) and P11 (rendering bounded in time and size).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import operator
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mlscaffold.errors import TemplateError

MAX_OUTPUT_CHARS = 10_000_000
MAX_SECONDS = 10.0
MAX_SEQUENCE = 1_000_000


class _RootLoader(jinja2.BaseLoader):
    """Loads `{% include %}`d files from inside the template root only, never through a symlink."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root is not None else None

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if self.root is None:
            raise jinja2.TemplateNotFound(template)
        parts = template.replace("\\", "/").split("/")
        if template.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise jinja2.TemplateNotFound(template)
        path = self.root.joinpath(*parts)
        current = self.root
        for part in parts:
            current = current / part
            if current.is_symlink():
                raise jinja2.TemplateNotFound(template)
        if not path.is_file() or not path.resolve().is_relative_to(self.root):
            raise jinja2.TemplateNotFound(template)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise jinja2.TemplateNotFound(template) from err
        return source, None, lambda: True


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """A sandbox that also refuses to build huge strings or sequences with `*` and `**`."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise jinja2.exceptions.SecurityError("exponent too large")
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(count, int)
                and len(seq) * count > MAX_SEQUENCE
            ):
                raise jinja2.exceptions.SecurityError("result of '*' too large")
        return operator.mul(left, right)


# The deadline of the rendering in progress: loops check it, so a template that loops without output
# still stops in time (P11).
_DEADLINE: contextvars.ContextVar[float] = contextvars.ContextVar("mlscaffold_render_deadline", default=0.0)


def _check_deadline() -> None:
    deadline = _DEADLINE.get()
    if deadline and time.monotonic() > deadline:
        raise jinja2.exceptions.SecurityError(f"rendering took longer than {MAX_SECONDS:.0f} s")


def _bounded_range(*args: int) -> Iterator[int]:
    """`range` for templates: bounded in length (as the sandbox's) and checking the deadline."""
    numbers = range(*args)
    if len(numbers) > MAX_SEQUENCE:
        raise jinja2.exceptions.SecurityError(f"range of more than {MAX_SEQUENCE} items")
    for i, number in enumerate(numbers):
        if i % 1024 == 0:
            _check_deadline()
        yield number


def _bounded_replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    """`replace` that refuses to grow a string past the output limit before building it."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * max(len(new) - len(old), 0) > MAX_OUTPUT_CHARS:
        raise jinja2.exceptions.SecurityError("result of 'replace' too large")
    return text.replace(old, new, -1 if count is None else count)


def make_environment(
    root: Path | None = None,
    *,
    trusted: bool = False,
    extensions: Iterable[str] = (),
    library_extensions: Iterable[str] = (),
) -> jinja2.Environment:
    """Build the environment for one template. Extensions load only when trusted (else the caller
    must already have refused with a TrustError); `library_extensions` (cookiecutter's own, for a
    cookiecutter template's defaults) are not template code and load in the sandbox too."""
    options: dict[str, Any] = {
        "extensions": list(library_extensions),
        "loader": _RootLoader(root),
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "autoescape": False,
    }
    env: jinja2.Environment
    if trusted:
        try:
            options["extensions"] += list(extensions)
            env = jinja2.Environment(**options)
        except (ImportError, AttributeError, ValueError) as err:
            raise TemplateError(f"Jinja extensions {', '.join(extensions)}: cannot load: {err}") from err
    else:
        env = _BoundedSandbox(**options)
        env.globals["range"] = _bounded_range
        env.filters["replace"] = _bounded_replace
    # `tojson` keeps non-ASCII text as it is: with ASCII escapes, an emoji becomes a surrogate pair
    # ("\ud83d\ude00") that TOML refuses and YAML reads back as two broken characters.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's own file-system bytecode cache, in the user's cache folder (XDG_CACHE_HOME or ~/.cache);
    None when that folder cannot be made (the templates are then compiled every time)."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return _cache_in(str(Path(base) / "mlscaffold" / "jinja"))


@functools.lru_cache(maxsize=8)
def _cache_in(folder: str) -> jinja2.BytecodeCache | None:
    from jinja2.bccache import FileSystemBytecodeCache

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(folder)


def _from_string(env: jinja2.Environment, source: str) -> jinja2.Template:
    """`env.from_string`, with the compiled code kept in Jinja's bytecode cache. The key covers the
    environment's class, extensions and intercepted operators (they change the generated code) and the
    source itself; the bucket checks the source's checksum and the Python bytecode version again."""
    import hashlib

    cache = _bytecode_cache()
    if cache is None:
        return env.from_string(source)
    kind = f"{type(env).__module__}.{type(env).__qualname__}|{sorted(env.extensions)}"
    kind += f"|{sorted(getattr(env, 'intercepted_binops', ()))}|{jinja2.__version__}"
    name = hashlib.sha256(f"{kind}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()
    bucket = cache.get_bucket(env, name, None, source)
    code = bucket.code
    if code is None:
        code = env.compile(source, name)
        bucket.code = code
        with contextlib.suppress(OSError):
            cache.set_bucket(bucket)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def render_text(env: jinja2.Environment, source: str, context: Mapping[str, Any], where: str) -> str:
    """Render a template string, bounded in output size and time; errors name `where`."""
    token = _DEADLINE.set(time.monotonic() + MAX_SECONDS)
    try:
        template = _from_string(env, source)
        started = time.monotonic()
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            chunks.append(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(f"{where}: renders to more than {MAX_OUTPUT_CHARS} characters")
            if time.monotonic() - started > MAX_SECONDS:
                raise TemplateError(f"{where}: rendering took longer than {MAX_SECONDS:.0f} s")
        return "".join(chunks)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(f"{where}: template syntax error on line {err.lineno}: {err.message}") from err
    except jinja2.UndefinedError as err:
        raise TemplateError(f"{where}: {err.message}") from err
    except jinja2.exceptions.SecurityError as err:
        raise TemplateError(f"{where}: refused by the sandbox: {err}") from err
    except jinja2.TemplateNotFound as err:
        raise TemplateError(
            f"{where}: cannot include '{err.name}' (outside the template or missing)"
        ) from err
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as err:
        raise TemplateError(f"{where}: {type(err).__name__}: {err}") from err
    except RecursionError as err:
        raise TemplateError(f"{where}: recursion too deep while rendering") from err
    except (MemoryError, OverflowError) as err:
        raise TemplateError(f"{where}: the result would be too large ({type(err).__name__})") from err
    finally:
        _DEADLINE.reset(token)


def evaluate(env: jinja2.Environment, expression: str, context: Mapping[str, Any], where: str) -> Any:
    """Evaluate a Jinja expression (for `when:` conditions and derived defaults)."""
    token = _DEADLINE.set(time.monotonic() + MAX_SECONDS)
    try:
        compiled = env.compile_expression(expression, undefined_to_none=False)
        value = compiled(**dict(context))
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(f"{where}: bad expression {expression!r}: {err.message}") from err
    except jinja2.UndefinedError as err:
        raise TemplateError(f"{where}: {err.message}") from err
    except jinja2.exceptions.SecurityError as err:
        raise TemplateError(f"{where}: refused by the sandbox: {err}") from err
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as err:
        raise TemplateError(f"{where}: {type(err).__name__}: {err}") from err
    except (MemoryError, RecursionError) as err:
        raise TemplateError(f"{where}: the expression is too large ({type(err).__name__})") from err
    finally:
        _DEADLINE.reset(token)
    if isinstance(value, jinja2.Undefined):
        raise TemplateError(f"{where}: expression {expression!r} is undefined")
    return value


# The sandbox and its bounded helpers, for the cookiecutter library's environment (engine.ccrender).
BoundedSandbox = _BoundedSandbox
bounded_range = _bounded_range
bounded_replace = _bounded_replace
