"""THE engine: turn (template units, answers) into a Plan of file writes, then apply it all-or-nothing.

`plan_*` functions only read; `apply_*` functions only write what the plan says. Promises kept here:
P1 (never write outside the destination), P4 (never overwrite without consent: callers pass the
decision in), P5 (all-or-nothing), P7 (byte fidelity) and P12 (a plan can be shown without applying).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2

from mlscaffold.engine.jinja_env import make_environment, render_text
from mlscaffold.engine.templates import Unit
from mlscaffold.errors import TemplateError

BOM = "\ufeff"
_FORBIDDEN_PARTS = {"", ".", "..", ".git"}
# Folders that tools leave in a template checkout (not part of any template).
_TOOL_CACHES = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis"})


@dataclass(frozen=True)
class FileSpec:
    """One file to write: its path relative to the destination (POSIX), its bytes and its mode.
    A file copied as it is from the template has a `source` instead of `data`: its bytes are read
    only when asked for and never kept, and writing streams them (a large data file costs no memory,
    P11)."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    origin: str = ""
    source: Path | None = None
    # committed even when a .gitignore ignores it (mlscaffold's own files on a cookiecutter base, such
    # as the sample data under a base that ignores data/)
    force_add: bool = False

    @property
    def content(self) -> bytes:
        """The file's bytes (read from `source` on each call, for a copied file)."""
        return self.source.read_bytes() if self.source is not None else self.data

    def loaded(self) -> FileSpec:
        """The same file with its bytes in memory (for use after its template folder is gone)."""
        return self if self.source is None else replace(self, data=self.content, source=None)

    def same_bytes(self, other: FileSpec) -> bool:
        """Whether two specs write the same bytes, comparing copied files chunk by chunk."""
        if self.source is not None and other.source is not None:
            import filecmp

            return filecmp.cmp(self.source, other.source, shallow=False)
        return self.content == other.content


@dataclass(frozen=True)
class Change:
    """One change to an existing repo."""

    path: str
    action: Literal["create", "modify", "delete"]
    content: bytes = b""
    mode: int = 0o644


def safe_relative_path(path: str, where: str) -> str:
    """Validate a rendered relative path: no absolute paths, no '..', no '.git', no odd characters."""
    if "\\" in path or "\x00" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise TemplateError(f"{where}: unsafe file name {path!r} (absolute or with a backslash)")
    parts = PurePosixPath(path).parts
    if not parts or any(p in _FORBIDDEN_PARTS for p in path.split("/")):
        raise TemplateError(f"{where}: unsafe file name {path!r} (empty, '.', '..' or '.git' in it)")
    return path


# ---------------------------------------------------------------------------------------------------
# rendering


_NEWLINES = re.compile(r"\r\n|\r|\n")
# Stand-ins for a line's own ending while Jinja renders (it turns every ending into one sequence).
# They are whitespace to Jinja (`-%}` and `{%-` strip them with the newline) and never newlines.
_MARKS = ("\x1e", "\x1f", "\x1c", "\x1d")


def _line_ending(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    if "\r" in text:
        return "\r"
    return "\n"


def _render_mixed_endings(env: jinja2.Environment, text: str, context: Mapping[str, Any], where: str) -> str:
    """Render text whose lines end differently so that each line keeps its own ending (P7): each
    CRLF or CR becomes a mark before a LF, and the marks become the original endings again."""
    marks = [m for m in _MARKS if m not in text]
    if len(marks) < 2:  # the text uses the stand-ins itself: one ending for every line, as before
        env.newline_sequence = _line_ending(text)  # type: ignore[assignment]
        return render_text(env, text, context, where)
    crlf, cr = marks[0], marks[1]
    marked = _NEWLINES.sub(lambda m: {"\r\n": crlf + "\n", "\r": cr + "\n"}.get(m.group(), "\n"), text)
    env.newline_sequence = "\n"
    out = render_text(env, marked, context, where)
    out = out.replace(crlf + "\n", "\r\n").replace(cr + "\n", "\r")
    return out.replace(crlf, "").replace(cr, "")


def render_file_text(env: jinja2.Environment, raw: bytes, context: Mapping[str, Any], where: str) -> bytes:
    """Render one template file, keeping its BOM, each line's ending and the final newline (P7)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TemplateError(
            f"{where}: a template file must be UTF-8 text (binary or other encoding)"
        ) from err
    if "\x00" in text:
        raise TemplateError(f"{where}: a template file must be text, not binary")
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    if len(set(_NEWLINES.findall(text))) > 1:
        out = _render_mixed_endings(env, text, context, where)
    else:
        env.newline_sequence = _line_ending(text)  # type: ignore[assignment]
        out = render_text(env, text, context, where)
    return ((BOM if bom else "") + out).encode("utf-8")


_SNIFF_BYTES = 8192


def _looks_binary(path: Path) -> bool:
    """Binary (copied, not rendered) when the first few KiB say so, as cookiecutter's binaryornot
    does; otherwise the whole file is checked. A large binary file is never read whole here."""
    import codecs

    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return _is_binary(path.read_bytes())


def _is_binary(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _walk(root: Path) -> Iterator[Path]:
    """Every file under root, sorted; symlinks in a template are refused (P1, P2)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for name in [*sorted(dirnames), *sorted(filenames)]:
            if (here / name).is_symlink():
                raise TemplateError(f"{here / name}: templates may not contain symlinks")
        dirnames[:] = [d for d in dirnames if d not in _TOOL_CACHES]
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")) or name == ".DS_Store":
                continue
            yield here / name


def _render_path(env: jinja2.Environment, rel: str, context: Mapping[str, Any], where: str) -> str | None:
    """Render each segment of a path; a segment that renders empty drops the file."""
    parts = []
    for segment in rel.split("/"):
        rendered = render_text(env, segment, context, where) if "{" in segment else segment
        if rendered.strip() == "":
            return None
        parts.append(rendered)
    return safe_relative_path("/".join(parts), where)


def render_unit(unit: Unit, context: Mapping[str, Any], *, trusted: bool = False) -> list[FileSpec]:
    """Render the `files/` tree of one base or stage."""
    root = unit.files_root
    if not root.is_dir():
        return []
    env = make_environment(unit.root, trusted=trusted, extensions=unit.jinja_extensions)
    suffix = unit.templates_suffix
    specs = []
    for source in _walk(root):
        rel = source.relative_to(root).as_posix()
        where = f"{unit.name}: {rel}"
        verbatim = any(fnmatch.fnmatch(rel, pat) for pat in unit.copy_without_render)
        is_template = not verbatim and (suffix == "" or rel.endswith(suffix))
        target_rel = rel[: -len(suffix)] if is_template and suffix else rel
        target = _render_path(env, target_rel, context, where)
        if target is None:
            continue
        if is_template and suffix == "" and _looks_binary(source):
            is_template = False  # cookiecutter's habit: binary files are copied as they are
        mode = stat.S_IMODE(source.stat().st_mode) | 0o600
        origin = f"{unit.name}/{rel}"
        if is_template:
            content = render_file_text(env, source.read_bytes(), context, where)
            specs.append(FileSpec(target, content, mode, origin))
        else:
            specs.append(FileSpec(target, mode=mode, origin=origin, source=source))
    return specs


def merge_specs(groups: Iterable[list[FileSpec]]) -> dict[str, FileSpec]:
    """Merge the outputs of several units; two units may not write different bytes to one path."""
    merged: dict[str, FileSpec] = {}
    for group in groups:
        for spec in group:
            previous = merged.get(spec.path)
            if previous is not None and not previous.same_bytes(spec):
                raise TemplateError(
                    f"{spec.origin}: writes '{spec.path}', which {previous.origin} writes too; "
                    "a stage must add files of its own"
                )
            merged[spec.path] = spec
    return merged


# ---------------------------------------------------------------------------------------------------
# applying
