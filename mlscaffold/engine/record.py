"""The record `.mlscaffold.yaml`: what generated a repo, with which answers, and which stages.

`add`, `update`, `diff`, `check` and `score` read it. Unknown keys are errors (P14) and a record written
by a newer mlscaffold is refused rather than misread. Its shape is mlscaffold/schemas/record.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold._version import __version__
from mlscaffold.engine.schema import validate
from mlscaffold.errors import UserError
from mlscaffold.yamlio import dumps_yaml, load_mapping

RECORD_NAME = ".mlscaffold.yaml"


@dataclass(frozen=True)
class Record:
    mlscaffold_version: str
    template_source: str
    template_version: str
    template_name: str = ""
    template_commit: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # stage name -> template version applied
    pristine: str | None = None  # commit id of the last pristine rendering (for update's merge base)

    def to_yaml(self) -> str:
        data: dict[str, Any] = {
            "mlscaffold_version": self.mlscaffold_version,
            "template": {
                "name": self.template_name,
                "source": self.template_source,
                "version": self.template_version,
                **({"commit": self.template_commit} if self.template_commit else {}),
            },
            "answers": self.answers,
            "stages": {name: {"version": version} for name, version in self.stages.items()},
        }
        if self.pristine:
            data["pristine"] = self.pristine
        header = "# Written by mlscaffold: what generated this repo. `mlscaffold update` reads it.\n"
        return header + dumps_yaml(data)


def _newer_than_us(version: str, where: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) > Version(__version__)
    except InvalidVersion as err:
        raise UserError(f"{where}: 'mlscaffold_version' is not a version: {version!r}") from err


def read_record(repo: Path) -> Record:
    path = repo / RECORD_NAME
    if not path.is_file():
        raise UserError(f"{path}: no mlscaffold record here (is this a repo made by `mlscaffold new`?)")
    data = load_mapping(path)
    where = str(path)
    validate(data, "record.schema.json", where)
    version = str(data["mlscaffold_version"])
    if _newer_than_us(version, where):
        raise UserError(
            f"{where}: written by mlscaffold {version}, newer than this one "
            f"({__version__}); upgrade mlscaffold"
        )
    template = data.get("template") or {}
    stages = {
        str(name): str((entry or {}).get("version", "")) for name, entry in (data.get("stages") or {}).items()
    }
    pristine = data.get("pristine")
    return Record(
        mlscaffold_version=version,
        template_source=template.get("source", "builtin"),
        template_version=str(template.get("version", "")),
        template_name=template.get("name") or "",
        template_commit=str(template["commit"]) if template.get("commit") else None,
        answers=data.get("answers") or {},
        stages=stages,
        pristine=str(pristine) if pristine else None,  # a commit id of digits reads as a number
    )
