"""The declarative schemas of mlscaffold's own files (mlscaffold/schemas/, engine/schema.py, P14).

Each format says through its real loader what a wrong type, a missing required key and an unknown key
are, in one line naming the file and the key path; every file mlscaffold ships or documents validates
against its schema, and each schema agrees with the code that reads what it lets through.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from helpers import make_template_set

from mlscaffold.conventions.policy import CUSTOM_KINDS, DEFAULT_POLICY, RULE_IDS, parse_policy
from mlscaffold.engine.record import RECORD_NAME, Record, read_record
from mlscaffold.engine.schema import SCHEMAS, load_schema, validate, validator
from mlscaffold.engine.templates import Unit, default_source, load_template_set
from mlscaffold.errors import TemplateError, UserError
from mlscaffold.wizard.questions import Choice, Question, QuestionType, Rule, Validation, load_questions
from mlscaffold.yamlio import load_mapping, loads_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SET = "name: t\nversion: '1.0'\nbase: base\nstages: [extra]\n"


def _set_error(tmp_path: Path, set_manifest: str = SET, stage_manifest: str = "kind: stage\n") -> str:
    root = make_template_set(
        tmp_path / "tpl", {}, set_manifest=set_manifest, stages={"extra": (stage_manifest, {})}
    )
    with pytest.raises(TemplateError) as err:
        load_template_set(str(root))
    return str(err.value).replace(str(root), "TPL")


# --- one clear line per schema: wrong type, missing key, unknown key --------------------------------


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (SET + "extends: 3\n", "'extends' must be 'builtin' or a folder path, got 3"),
        (SET + "defaults: [a]\n", "'defaults' must be a mapping of answer keys to values, got a list"),
        (SET + "defaults: {null: 1}\n", "'defaults': key 'null' is not a name (quote it, or remove it)"),
        ("stages: []\nbase: {folder: x}\n", "'base.cookiecutter' is missing"),
        (SET + "stagse: []\n", "unknown key 'stagse' (did you mean 'stages'?)"),
        (SET + "advice: [feasability]\n", "'advice[0]' must be one of feasibility, got 'feasability'"),
        (SET + "questions:\n  - {prompt: Name?}\n", "'questions[0].name' is missing"),
        (
            SET + "questions:\n  - {name: q, validation: {mn: 1}}\n",
            "unknown key 'questions[0].validation.mn' (did you mean 'questions[0].validation.min'?)",
        ),
    ],
)
def test_template_yaml_errors_name_the_file_and_the_key_path(
    tmp_path: Path, manifest: str, message: str
) -> None:
    assert _set_error(tmp_path, set_manifest=manifest).startswith(f"TPL/template.yaml: {message}")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("kind: stage\norder: ten\n", "'order' must be a whole number, got 'ten'"),
        ("kind: stage\nneeds: [data, 3]\n", "'needs[1]' must be text, got 3"),
        ("kind: stage\noptional: sometimes\n", "'optional' must be true or false, got 'sometimes'"),
        ("kind: stag\n", "'kind' must be one of base, stage, got 'stag' (did you mean 'stage'?)"),
        ("kind: stage\nquestions:\n  - {type: int}\n", "'questions[0].name' is missing"),
        ("kind: stage\ndependancies: [x]\n", "unknown key 'dependancies' (did you mean 'dependencies'?)"),
        ("kind: stage\n~: x\n", "key 'null' is not a name (quote it, or remove it); known: commands,"),
    ],
)
def test_stage_manifest_errors_name_the_file_and_the_key_path(
    tmp_path: Path, manifest: str, message: str
) -> None:
    error = _set_error(tmp_path, stage_manifest=manifest)
    assert error.startswith(f"TPL/stages/extra/manifest.yaml: {message}")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"name": "q", "required": "yes"}, "'questions[0].required' must be true or false, got 'yes'"),
        ({"prompt": "Name?"}, "'questions[0].name' is missing"),
        ({"name": "q", "tpye": "int"}, "unknown key 'questions[0].tpye' (did you mean 'questions[0].type'?)"),
        ({"name": "q", "type": "choise"}, "(did you mean 'choice'?)"),
        (
            {"name": "q", "validation": {"min_length": -1}},
            "'questions[0].validation.min_length' must be at least 0",
        ),
    ],
)
def test_question_errors_name_the_file_and_the_key_path(item: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError) as err:
        load_questions([{"name": "first"}, item], "team/template.yaml")
    assert str(err.value).startswith("team/template.yaml: ")
    assert message.replace("[0]", "[1]") in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("large_files: {max_kb: big}\n", "'large_files.max_kb' must be a positive number, got 'big'"),
        (
            "required_files: README.md\n",
            "'required_files' must be a list of non-empty strings, got 'README.md'",
        ),
        ("custom:\n  - {forbid_files: [a]}\n", "'custom[0].id' is missing"),
        ('custom:\n  - {id: "ok\\n", forbid_files: [a]}\n', "'custom[0].id' must be lower-case letters"),
        ("custom:\n  - {id: x, require_text: {file: a}}\n", "'custom[0].require_text.pattern' is missing"),
        ("required_file: [a]\n", "unknown policy key 'required_file' (did you mean 'required_files'?)"),
        ("severity: {no-secrets: warn}\n", "'severity.no-secrets' must be error, warning or off, got 'warn'"),
        ("severity: {no-secret: off}\n", "unknown policy key 'severity.no-secret' (did you mean"),
    ],
)
def test_policy_errors_name_the_file_and_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        parse_policy(loads_yaml(text, "policy.yaml"), "policy.yaml")
    assert str(err.value).startswith(f"policy.yaml: {message}")


def test_a_custom_rule_id_may_take_a_severity_of_its_own() -> None:
    policy = parse_policy(
        {"custom": [{"id": "mine", "forbid_files": "*.ipynb"}], "severity": {"mine": False}}, "p"
    )
    assert policy.level("mine") == "off" and policy.custom[0].patterns == ("*.ipynb",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mlscaffold_version: 0.1.0\nstages: {data: 1}\n", "'stages.data' must be a mapping, got 1"),
        ("mlscaffold_version: 0.1.0\npristine: [a]\n", "'pristine' must be a commit id, got a list"),
        ("template: {source: builtin}\n", "'mlscaffold_version' is missing"),
        (
            "mlscaffold_version: 0.1.0\ntemplate: {sorce: builtin}\n",
            "unknown key 'template.sorce' (did you mean 'template.source'?)",
        ),
        (
            "mlscaffold_version: 0.1.0\nstages: {data: {versoin: '1'}}\n",
            "unknown key 'stages.data.versoin' (did you mean 'stages.data.version'?)",
        ),
    ],
)
def test_record_errors_name_the_file_and_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / RECORD_NAME).write_text(text)
    with pytest.raises(UserError) as err:
        read_record(tmp_path)
    assert str(err.value) == f"{tmp_path / RECORD_NAME}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("template: [a, b]\n", "'template' must be a folder or a git URL[@REF], got a list"),
        ("templat: ./t\n", "unknown key 'templat' (did you mean 'template'?)"),
    ],
)
def test_user_config_errors_name_the_file_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    config = tmp_path / "mlscaffold" / "config.yaml"
    config.parent.mkdir()
    config.write_text(text)
    monkeypatch.delenv("MLSCAFFOLD_TEMPLATE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(UserError) as err:
        default_source()
    assert str(err.value) == f"{config}: {message}"


def test_a_bad_manifest_is_one_error_line_from_the_cli(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {}, set_manifest=SET, stages={"extra": ("order: [1]\n", {})})
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "new", "out", "--template", str(root), "--defaults"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    manifest = root / "stages" / "extra" / "manifest.yaml"
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: {manifest}: 'order' must be a whole number, got a list"]
    assert not (tmp_path / "out").exists()


# --- every file mlscaffold ships or documents validates; the schemas agree with the code ------------


def _doc_block(doc: str, first_line: str) -> str:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    start = text.index(f"```yaml\n{first_line}") + len("```yaml\n")
    return text[start : text.index("```", start)]


def test_every_shipped_and_documented_file_validates() -> None:
    validate(load_mapping(TEMPLATES / "template.yaml"), "template.schema.json", "template.yaml")
    manifests = [TEMPLATES / "base" / "manifest.yaml", *sorted(TEMPLATES.glob("stages/*/manifest.yaml"))]
    assert len(manifests) == 7
    for manifest in manifests:
        validate(load_mapping(manifest), "manifest.schema.json", str(manifest))
    validate(DEFAULT_POLICY, "policy.schema.json", "DEFAULT_POLICY")
    for first_line in ("required_files:", "# policy.yaml of the team template"):
        validate(
            loads_yaml(_doc_block("conventions.md", first_line), "doc"), "policy.schema.json", first_line
        )
    for doc, first_line in (
        ("templates.md", "# acme-ml-template/template.yaml"),
        ("questions.md", "questions:"),
    ):
        validate(loads_yaml(_doc_block(doc, first_line), doc), "template.schema.json", doc)
    record = Record(
        "0.1.0", "builtin", "0.1.0", "mlscaffold-default", "abc", {"a": 1}, {"data": "1.0"}, "f00"
    )
    validate(loads_yaml(record.to_yaml(), "record"), "record.schema.json", "record")


def test_the_test_helpers_default_manifests_validate() -> None:
    import inspect

    import helpers

    defaults = inspect.signature(helpers.make_template_set).parameters
    validate(loads_yaml(defaults["set_manifest"].default, "set"), "template.schema.json", "set")
    validate(loads_yaml(defaults["base_manifest"].default, "base"), "manifest.schema.json", "base")


def test_a_changed_builtin_manifest_would_fail_the_schema(tmp_path: Path) -> None:
    """The check above can fail: the built-in data set's manifest with a key the schema lacks does."""
    data = load_mapping(TEMPLATES / "stages" / "data" / "manifest.yaml")
    with pytest.raises(UserError, match="unknown key 'outputs'"):
        validate({**data, "outputs": ["x"]}, "manifest.schema.json", "data/manifest.yaml")


def test_the_schemas_are_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    names = sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    assert names == [
        f"{n}.schema.json" for n in ("config", "manifest", "policy", "question", "record", "template")
    ]
    for name in names:
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_schemas_name_what_the_code_reads() -> None:
    question = load_schema("question.schema.json")
    assert set(question["properties"]) == _fields(Question)
    assert set(question["properties"]["validation"]["properties"]) == _fields(Validation)
    assert set(question["$defs"]["choice"]["properties"]) == _fields(Choice)
    assert tuple(question["properties"]["type"]["enum"]) == get_args(QuestionType)
    assert tuple(question["properties"]["validation"]["properties"]["rule"]["enum"]) == get_args(Rule)
    manifest = load_schema("manifest.schema.json")
    assert set(manifest["properties"]) == _fields(Unit) - {"root", "files_dir", "is_cookiecutter"}
    policy = load_schema("policy.schema.json")
    assert set(policy["properties"]) == {"extends", "custom", "severity", *RULE_IDS}
    assert set(CUSTOM_KINDS) < set(policy["$defs"]["custom"]["properties"])
    assert set(load_schema("record.schema.json")["properties"]) == {
        "mlscaffold_version", "template", "answers", "stages", "pristine",
    }  # fmt: skip


def test_each_validator_is_built_once() -> None:
    assert validator("policy.schema.json") is validator("policy.schema.json")


def test_a_commit_id_of_digits_in_the_record_reads_as_text(tmp_path: Path) -> None:
    digits = "1" * 40  # YAML reads it unquoted as a number
    (tmp_path / RECORD_NAME).write_text(
        f"mlscaffold_version: 0.1.0\ntemplate: {{commit: {digits}}}\npristine: {digits}\n"
    )
    record = read_record(tmp_path)
    assert record.pristine == digits and record.template_commit == digits


def _cached(cache: Path) -> list[str]:
    folder = cache / "mlscaffold" / "valid"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def own_cache(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own (conftest shares ~/.cache/mlscaffold between tests)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(isolated_env / "cache"))
    return isolated_env / "cache"


def test_a_file_that_validated_once_is_not_validated_again(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """engine.schema remembers passes in $XDG_CACHE_HOME/mlscaffold/valid, keyed by the schemas, the ref
    and the data exactly: the same data skips jsonschema, other data (even 1 for '1') is validated."""
    from mlscaffold.engine import schema

    good = {"kind": "stage", "name": "extra"}
    validate(good, "manifest.schema.json", "m.yaml")
    assert len(_cached(own_cache)) == 1

    def no_validator(ref: str) -> Any:
        raise AssertionError(f"validated again: {ref}")

    monkeypatch.setattr(schema, "validator", no_validator)
    validate(dict(good), "manifest.schema.json", "m.yaml")  # equal data: remembered
    with pytest.raises(AssertionError, match="validated again"):
        validate({"kind": "stage", "name": "other"}, "manifest.schema.json", "m.yaml")
    with pytest.raises(AssertionError, match="validated again"):
        validate(good, "template.schema.json", "t.yaml")  # the same data against another schema


def test_a_failure_is_never_remembered_and_types_are_told_apart(own_cache: Path) -> None:
    for _ in range(2):
        with pytest.raises(UserError, match=r"t\.yaml: 'name' must be text, got 1"):
            validate({"name": 1, "base": "base"}, "template.schema.json", "t.yaml")
    assert _cached(own_cache) == []
    validate({"name": "1", "base": "base"}, "template.schema.json", "t.yaml")
    assert len(_cached(own_cache)) == 1
    with pytest.raises(UserError, match=r"t\.yaml: 'name' must be text, got 1"):  # 1 is not '1'
        validate({"name": 1, "base": "base"}, "template.schema.json", "t.yaml")


def test_an_unwritable_cache_only_means_validating_every_time(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = isolated_env / "not-a-folder"
    blocked.write_text("a file where the cache folder would be\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    for _ in range(2):
        validate({"kind": "stage", "name": "extra"}, "manifest.schema.json", "m.yaml")
        with pytest.raises(UserError, match=r"m\.yaml: unknown key 'nmae'"):
            validate({"kind": "stage", "nmae": "extra"}, "manifest.schema.json", "m.yaml")
    assert blocked.read_text() == "a file where the cache folder would be\n"
