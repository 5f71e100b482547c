"""Model versions and the champion: the model that serves users.

Every `train` registers the model it wrote as a new version (numbers are never reused); `evaluate`
records the readiness gate's verdict on that version; `promote` makes a version that passed the gate
the champion and `rollback` returns to the previous champion. Both are recorded (who, when, why, the
version's metrics). The service, batch scoring and `deploy` load the champion; when nothing was ever
promoted they fall back to the latest model in artifacts/ (`serving_model`).

One interface, two back ends (`registry.backend` in config.yaml; `auto`, the default, is mlflow when
`tracking.backend` is mlflow and file otherwise):

    file    artifacts/registry/registry.json holds the versions, the champion and the history.
    mlflow  MLflow's model registry (the tracking store of tracking.py, or MLFLOW_TRACKING_URI):
            each version is a registered model version of `registry.model_name`, the champion is
            its `champion` alias and the gate's verdict is a version tag. The JSON file keeps the
            same record beside it (history, local paths).

Either way a copy of each version's model.joblib, model_meta.json and monitoring reference
(artifacts/reference/) is kept under artifacts/registry/v<N>/, which is what the service and
monitoring load: serving never needs the tracking server.
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .artifacts import meta_path, model_path, read_json, write_json
from .config import Config
from .errors import DataError, MissingInputError

log = logging.getLogger(__name__)
CHAMPION_ALIAS = "champion"
FILES = ("model.joblib", "model_meta.json")


@dataclass(frozen=True)
class Version:
    """One registered model."""

    number: int
    model_version: str  # the model_meta.json identifier (time + data fingerprint)
    registered_at: str
    candidate: str | None
    run_id: str | None
    gate: dict[str, Any] | None  # {"ready": bool, "failed": [...], "metric": ..., "value": ...}
    folder: Path

    @property
    def passed(self) -> bool:
        return bool(self.gate and self.gate.get("ready") is True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "model_version": self.model_version,
            "registered_at": self.registered_at,
            "candidate": self.candidate,
            "run_id": self.run_id,
            "gate": self.gate,
        }


@dataclass(frozen=True)
class ServingModel:
    """What the service and batch scoring load: the champion, or the latest model as a fallback."""

    model_file: Path
    meta_file: Path
    version: int | None  # the registry number; None when the model was never registered
    champion: bool
    reference: Path  # the folder of its monitoring reference (profile.json, reference.parquet)


def registry_dir(config: Config) -> Path:
    return config.artifacts_dir / "registry"


def state_path(config: Config) -> Path:
    return registry_dir(config) / "registry.json"


def model_name(config: Config) -> str:
    return config.registry.model_name or config.project.name


def actor() -> str:
    """Who did it: $MLPIPE_ACTOR, else the login name (CI sets GITHUB_ACTOR)."""
    for name in ("MLPIPE_ACTOR", "GITHUB_ACTOR"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Registry:
    """The file back end; `MlflowRegistry` changes where numbers and the champion come from."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.path = state_path(config)

    # -- reading --------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"versions": [], "champion": None, "history": []}
        state = read_json(self.path, hint="restore it from a backup, or delete it to start over")
        for key, empty in (("versions", []), ("champion", None), ("history", [])):
            state.setdefault(key, empty)
        return state

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self.path, state)

    def versions(self) -> list[Version]:
        return [self._version(entry) for entry in self._state()["versions"]]

    def _version(self, entry: dict[str, Any]) -> Version:
        return Version(
            number=int(entry["version"]),
            model_version=str(entry["model_version"]),
            registered_at=str(entry.get("registered_at", "")),
            candidate=entry.get("candidate"),
            run_id=entry.get("run_id"),
            gate=entry.get("gate"),
            folder=registry_dir(self.config) / f"v{int(entry['version'])}",
        )

    def get(self, number: int) -> Version:
        for version in self.versions():
            if version.number == number:
                return version
        known = ", ".join(str(v.number) for v in self.versions()) or "none yet"
        raise DataError(f"{self.path}: no model version {number} (versions: {known})")

    def find(self, model_version: str) -> Version | None:
        """The registered version of a model_meta.json identifier, if any."""
        return next((v for v in self.versions() if v.model_version == model_version), None)

    def latest(self) -> Version | None:
        found = self.versions()
        return found[-1] if found else None

    def champion(self) -> Version | None:
        number = self._state()["champion"]
        return self.get(int(number)) if number is not None else None

    def history(self) -> list[dict[str, Any]]:
        return list(self._state()["history"])

    # -- writing --------------------------------------------------------------------------------
    def _next_number(self, meta: dict[str, Any]) -> int:
        return max((v.number for v in self.versions()), default=0) + 1

    def register(self, meta: dict[str, Any]) -> Version:
        """A new version for the model train just wrote (artifacts/model.joblib, model_meta.json and
        the monitoring reference in artifacts/reference/)."""
        number = self._next_number(meta)
        folder = registry_dir(self.config) / f"v{number}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(model_path(self.config), folder / "model.joblib")
        write_json(folder / "model_meta.json", {**meta, "registry_version": number})
        reference = self.config.artifacts_dir / "reference"
        if reference.is_dir():
            shutil.copytree(reference, folder / "reference", dirs_exist_ok=True)
        entry = {
            "version": number,
            "model_version": meta["model_version"],
            "registered_at": _now(),
            "candidate": meta.get("candidate"),
            "run_id": meta.get("tracking_run_id"),
            "gate": None,
        }
        state = self._state()
        state["versions"].append(entry)
        self._save(state)
        return self._version(entry)

    def record_gate(self, model_version: str, gate: dict[str, Any]) -> Version | None:
        """The readiness gate's verdict on a registered model (None: the model is not registered)."""
        state = self._state()
        for entry in state["versions"]:
            if entry["model_version"] == model_version:
                entry["gate"] = {**gate, "evaluated_at": _now()}
                self._save(state)
                return self._version(entry)
        return None

    def promote(self, number: int, reason: str, force: bool = False) -> dict[str, Any]:
        """Make version `number` the champion; refused for a version the gate did not pass."""
        version = self.get(number)
        if not version.passed and not force:
            why = (
                "was never evaluated (run `make evaluate`)"
                if version.gate is None
                else "failed the readiness gate ("
                + (", ".join(version.gate.get("failed") or []) or "not ready")
                + ")"
            )
            raise DataError(f"promote refused: version {number} {why}; pass --force to override")
        return self._set_champion(version, "promote", reason, forced=force and not version.passed)

    def rollback(self, reason: str) -> dict[str, Any]:
        """Return to the champion before the current one."""
        current = self.champion()
        if current is None:
            raise DataError(f"rollback refused: {self.path}: there is no champion yet")
        previous = self.previous_champion()
        if previous is None:
            raise DataError(
                f"rollback refused: version {current.number} is the first champion; "
                "there is nothing to go back to"
            )
        return self._set_champion(self.get(previous), "rollback", reason, forced=False)

    def previous_champion(self) -> int | None:
        """The champion before the current one, walking back over earlier rollbacks."""
        chain: list[int] = []
        for event in self.history():
            if event["action"] == "promote" and (not chain or chain[-1] != event["version"]):
                chain.append(int(event["version"]))
            elif event["action"] == "rollback" and chain:
                chain.pop()
        return chain[-2] if len(chain) >= 2 else None

    def _set_champion(
        self, version: Version, action: str, reason: str, forced: bool
    ) -> dict[str, Any]:
        state = self._state()
        event = {
            "action": action,
            "version": version.number,
            "from_version": state["champion"],
            "model_version": version.model_version,
            "by": actor(),
            "at": _now(),
            "reason": reason,
            "forced": forced,
            "metrics": (version.gate or {}).get("metrics", {}),
        }
        self._publish(version)
        state["champion"] = version.number
        state["history"].append(event)
        self._save(state)
        return event

    def _publish(self, version: Version) -> None:
        """Where the back end records the champion outside the JSON file (nothing for `file`)."""


class MlflowRegistry(Registry):
    """MLflow's model registry: version numbers, the `champion` alias and gate tags live there."""

    def _client(self) -> Any:
        from .tracking import client

        return client(self.config)

    def _next_number(self, meta: dict[str, Any]) -> int:
        uri = meta.get("tracking_model_uri")
        if not uri:
            raise DataError(
                "registry.backend is mlflow but train logged no model: set tracking.log_models: "
                "true, or registry.backend: file"
            )
        import mlflow

        from .tracking import _quiet

        self._client()  # connects to the same store as tracking
        with _quiet("mlflow"):
            registered = mlflow.register_model(uri, model_name(self.config))
        return int(registered.version)

    def record_gate(self, model_version: str, gate: dict[str, Any]) -> Version | None:
        version = super().record_gate(model_version, gate)
        if version is not None:
            client = self._client()
            name = model_name(self.config)
            client.set_model_version_tag(name, str(version.number), "ready", str(gate["ready"]))
            failed = ",".join(gate.get("failed") or []) or "-"
            client.set_model_version_tag(name, str(version.number), "failed_checks", failed)
        return version

    def champion(self) -> Version | None:
        """The version the `champion` alias points at (MLflow is the source of truth)."""
        from mlflow.exceptions import MlflowException

        try:
            found = self._client().get_model_version_by_alias(
                model_name(self.config), CHAMPION_ALIAS
            )
        except MlflowException:
            return None
        return self.get(int(found.version))

    def _publish(self, version: Version) -> None:
        self._client().set_registered_model_alias(
            model_name(self.config), CHAMPION_ALIAS, str(version.number)
        )


def open_registry(config: Config) -> Registry:
    """The registry config.yaml asks for (`auto`: MLflow's when tracking is on, else the file)."""
    backend = config.registry.backend
    if backend == "auto":
        backend = "mlflow" if config.tracking.backend == "mlflow" else "file"
    if backend == "mlflow":
        return MlflowRegistry(config)
    return Registry(config)


def serving_model(config: Config) -> ServingModel:
    """The champion's files; the latest trained model when nothing was promoted yet."""
    registry = open_registry(config)
    champion = registry.champion()
    if champion is not None:
        model_file, meta_file = (champion.folder / name for name in FILES)
        if not (model_file.is_file() and meta_file.is_file()):
            raise MissingInputError(
                f"{champion.folder}: the champion's files (version {champion.number}) are missing;"
                " restore them or promote another version"
            )
        reference = champion.folder / "reference"
        if not reference.is_dir():  # registered before references were kept with versions
            reference = config.artifacts_dir / "reference"
        return ServingModel(model_file, meta_file, champion.number, True, reference)
    if not model_path(config).is_file():
        raise MissingInputError(f"{model_path(config)}: not found; run `make train` first")
    meta = read_json(meta_path(config), hint="run `make train` first")
    number = meta.get("registry_version")
    return ServingModel(
        model_path(config),
        meta_path(config),
        int(number) if number else None,
        False,
        config.artifacts_dir / "reference",
    )
