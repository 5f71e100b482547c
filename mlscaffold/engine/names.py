"""Rules the engine enforces on every answer set: project folder (slug) and Python package names, and no
password inside a URL (the one password-in-URL rule; `vcs.redact_url` hides credentials in messages)."""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata

from mlscaffold.errors import AnswerError


def check_package_name(name: str, key: str = "package_name") -> None:
    """A valid, non-keyword, ASCII Python identifier that shadows no library the project uses."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise AnswerError(
            key,
            f"{name!r} is not an ASCII Python identifier: use letters, digits and _, "
            "not starting with a digit (e.g. churn_model)",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise AnswerError(key, f"{name!r} is a Python keyword; try {name}_pkg")
    if name.lower() in RESERVED_NAMES or name in sys.stdlib_module_names:
        raise AnswerError(key, f"{name!r} would shadow a module the project imports; try {name}_model")


def derived_names(project_name: str) -> tuple[str, str]:
    """(project_slug, package_name) for a project name: 'Churn Model 2' -> ('churn-model-2', 'churn_model_2').

    The slug is lowercase ASCII letters and digits joined by single hyphens (a normalized
    distribution and folder name). The package name is the slug with underscores, prefixed with
    'ml_' when it would start with a digit and suffixed with '_' when it would be a keyword or
    shadow a module. A name with no ASCII letter or digit is an AnswerError.
    """
    ascii_name = unicodedata.normalize("NFKD", project_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise AnswerError(
            "project_name",
            f"{project_name!r} has no ASCII letters or digits to name the folder; use e.g. churn-model",
        )
    if slug.replace("-", "_") in RESERVED_NAMES:
        raise AnswerError(
            "project_name",
            f"{project_name!r} would clash with a library the project depends on; try {slug}-model",
        )
    package = slug.replace("-", "_")
    if package[0].isdigit():
        package = f"ml_{package}"
    if keyword.iskeyword(package) or keyword.issoftkeyword(package) or package in sys.stdlib_module_names:
        package = f"{package}_"
    return slug, package


RESERVED_NAMES = frozenset(
    {
        "fastapi", "httpx", "joblib", "matplotlib", "mlscaffold", "numpy", "pandas", "pandera",
        "pyarrow", "pydantic", "pytest", "pyyaml", "scikit_learn", "scipy", "sklearn",
        "sqlalchemy", "starlette", "uvicorn", "yaml", "tests", "test", "src",
    }
)  # fmt: skip


_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@")


_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def has_password_in_url(text: str) -> bool:
    """A URL with a literal password (`${VAR}` placeholders are fine: the project expands them)."""
    return any(not _PLACEHOLDER.fullmatch(m.group(1)) for m in _CREDENTIALS.finditer(text))
