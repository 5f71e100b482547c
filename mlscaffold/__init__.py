"""mlscaffold: from a product goal to a monitored ML service.

The public API: the verbs (keyword-only functions that never print and return result dataclasses),
`AnswerSources` (where answers come from, and who may be asked), and the result types. It is imported
lazily so that `import mlscaffold` (and the CLI's start-up) stays fast.
"""

from __future__ import annotations

from ._version import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs ~40 ms, before `__main__` can catch
# Ctrl-C. Type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .conventions import check_repo
    from .conventions.model import CheckReport
    from .score import ScoreReport, score_repo
    from .verbs.add import AddResult, add_stages
    from .verbs.new import NewResult, StageInfo, list_stages, new_project
    from .verbs.update import UpdateResult, diff_project, update_project
    from .wizard.asking import Asker
    from .wizard.sources import AnswerSources

__all__ = [
    "AddResult",
    "AnswerSources",
    "Asker",
    "CheckReport",
    "NewResult",
    "ScoreReport",
    "StageInfo",
    "UpdateResult",
    "__version__",
    "add_stages",
    "check_repo",
    "diff_project",
    "list_stages",
    "new_project",
    "score_repo",
    "update_project",
]

_LAZY = {
    "new_project": "verbs.new",
    "list_stages": "verbs.new",
    "NewResult": "verbs.new",
    "StageInfo": "verbs.new",
    "add_stages": "verbs.add",
    "AddResult": "verbs.add",
    "update_project": "verbs.update",
    "diff_project": "verbs.update",
    "UpdateResult": "verbs.update",
    "check_repo": "conventions",
    "CheckReport": "conventions.model",
    "score_repo": "score",
    "ScoreReport": "score",
    "AnswerSources": "wizard.sources",
    "Asker": "wizard.asking",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlscaffold' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
