"""The Jinja2 environments templates render in: sandboxed, bounded, and fenced to the template root.

Promises kept here: P2 (no reads outside the template root), P3 (untrusted templates render in a
sandbox, extensions only with trust) and P11 (rendering bounded in time and size).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError

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


def make_environment(
    root: Path | None = None,
    *,
    trusted: bool = False,
    extensions: Iterable[str] = (),
) -> jinja2.Environment:
    """Build the environment for one template. Extensions load only when trusted (else the caller
    must already have refused with a TrustError)."""
    options: dict[str, Any] = {
        "loader": _RootLoader(root),
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "autoescape": False,
    }
    env: jinja2.Environment
    if trusted:
        env = jinja2.Environment(extensions=list(extensions), **options)
    else:
        env = _BoundedSandbox(**options)
    # `tojson` keeps non-ASCII text as it is: with ASCII escapes, an emoji becomes a surrogate pair
    # ("\ud83d\ude00") that TOML refuses and YAML reads back as two broken characters.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def render_text(env: jinja2.Environment, source: str, context: Mapping[str, Any], where: str) -> str:
    """Render a template string, bounded in output size and time; errors name `where`."""
    try:
        template = env.from_string(source)
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


def evaluate(env: jinja2.Environment, expression: str, context: Mapping[str, Any], where: str) -> Any:
    """Evaluate a Jinja expression (for `when:` conditions and derived defaults)."""
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
    if isinstance(value, jinja2.Undefined):
        raise TemplateError(f"{where}: expression {expression!r} is undefined")
    return value
