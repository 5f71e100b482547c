"""mlscaffold: from a product goal to a monitored ML service.

The public API is imported lazily so that `import mlscaffold` (and the CLI's start-up) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import new_project
    from .checks import check_repo
    from .score import score_repo
    from .stages_add import add_stages
    from .update import diff_project, update_project

__all__ = [
    "__version__",
    "add_stages",
    "check_repo",
    "diff_project",
    "new_project",
    "score_repo",
    "update_project",
]

_LAZY = {
    "new_project": "api",
    "add_stages": "stages_add",
    "update_project": "update",
    "diff_project": "update",
    "check_repo": "checks",
    "score_repo": "score",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlscaffold' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
