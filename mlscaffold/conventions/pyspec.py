"""Does a `requires-python` specifier admit a Python version? PEP 440, by `packaging`."""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from mlscaffold.errors import UserError


def admits(specifier: str, python: str, where: str = "requires-python") -> bool:
    """True when some release of `python` ("3.11" means any 3.11.x) satisfies `specifier`."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        raise UserError(f"{where}: cannot read the version specifier {specifier.strip()!r}") from None
    base = Version(python)
    if len(base.release) > 2:
        return spec.contains(base, prereleases=True)
    major, minor = (*base.release, 0)[:2]
    return any(spec.contains(Version(f"{major}.{minor}.{patch}"), prereleases=True) for patch in range(100))
