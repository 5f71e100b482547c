"""Team templates: extends, pinned defaults, locked answers, git sources (P9, P10), cookiecutter bases,
and the default template from the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_template_set

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.record import read_record
from mlscaffold.engine.templates import load_template_set, split_git_source
from mlscaffold.errors import AnswerError, UserError

PARENT = """name: parent
version: '1.0'
base: base
stages: [data, deploy]
questions:
  - name: project_name
    prompt: Project name?
    default: team-project
  - name: python_version
    prompt: Python version?
    default: '3.10'
  - name: tracking_uri
    prompt: Tracking server?
    default: http://localhost:5000
"""


def _parent(root: Path) -> Path:
    return make_template_set(
        root,
        {
            "settings.txt.jinja": "python={{ python_version }} tracking={{ tracking_uri }}\n",
            "Makefile": "PIPELINE :=\ninclude $(sort $(wildcard mk/*.mk))\n",
            "src/{{ package_name }}/__init__.py": "",
        },
        set_manifest=PARENT,
        stages={
            "data": ("kind: stage\norder: 10\n", {"data.txt": "builtin data\n"}),
            "deploy": ("kind: stage\norder: 40\n", {"deploy.txt": "generic deploy\n"}),
        },
    )


def _child(root: Path, parent: Path) -> Path:
    root.mkdir(parents=True)
    (root / "template.yaml").write_text(
        f"name: acme\nversion: '2.0'\nextends: {parent}\nstages: [deploy, audit]\n"
        "defaults:\n  python_version: '3.12'\nlocked:\n  tracking_uri: https://mlflow.acme.internal\n"
    )
    for name, text in (("deploy", "acme platform deploy\n"), ("audit", "audit trail\n")):
        (root / "stages" / name / "files").mkdir(parents=True)
        (root / "stages" / name / "manifest.yaml").write_text(f"kind: stage\norder: 45\npurpose: {name}\n")
        (root / "stages" / name / "files" / f"{name}.txt").write_text(text)
    return root


def test_a_team_template_overrides_adds_pins_and_locks(tmp_path: Path) -> None:
    child = _child(tmp_path / "acme", _parent(tmp_path / "parent"))
    tset = load_template_set(str(child))
    assert list(tset.stages) == ["data", "deploy", "audit"]
    result = new_project(dest=tmp_path / "p", template=str(child), sources=AnswerSources(defaults=True))
    out = result.dest
    assert (out / "deploy.txt").read_text() == "acme platform deploy\n"
    assert (out / "audit.txt").read_text() == "audit trail\n"
    assert (out / "data.txt").read_text() == "builtin data\n"
    assert (out / "settings.txt").read_text() == "python=3.12 tracking=https://mlflow.acme.internal\n"
    record = read_record(out)
    assert record.template_source == str(child) and record.template_version == "2.0"


def test_a_locked_answer_cannot_be_changed(tmp_path: Path) -> None:
    child = _child(tmp_path / "acme", _parent(tmp_path / "parent"))
    sources = AnswerSources(defaults=True, set_values=("tracking_uri=http://mine",))
    with pytest.raises(AnswerError, match="locked"):
        new_project(dest=tmp_path / "p", template=str(child), sources=sources)
    assert not (tmp_path / "p").exists()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_a_git_template_is_pinned_to_its_ref_and_leaves_no_clone(tmp_path: Path, tmpdir_left: Path) -> None:
    repo = _parent(tmp_path / "team-template")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "v1")
    _git(repo, "tag", "v1")
    v1 = _git(repo, "rev-parse", "HEAD")
    (repo / "base" / "files" / "settings.txt.jinja").write_text("changed after v1\n")
    _git(repo, "commit", "-qam", "v2")
    url = f"file://{repo}"
    result = new_project(dest=tmp_path / "p", template=f"{url}@v1", sources=AnswerSources(defaults=True))
    assert (result.dest / "settings.txt").read_text().startswith("python=3.10")
    record = read_record(result.dest)
    assert record.template_source == url and record.template_commit == v1
    assert list(tmpdir_left.iterdir()) == [] or all(
        "mlscaffold-template" not in p.name for p in tmpdir_left.iterdir()
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://host/team/tpl.git@v1.2", ("https://host/team/tpl.git", "v1.2")),
        ("https://user:tok@host/team/tpl.git", ("https://user:tok@host/team/tpl.git", None)),
        ("https://user:tok@host/tpl.git@release/2", ("https://user:tok@host/tpl.git", "release/2")),
        ("git@github.com:team/tpl.git@main", ("git@github.com:team/tpl.git", "main")),
        ("./local/folder", None),
    ],
)
def test_sources_split_into_url_and_ref(source: str, expected: tuple[str, str | None] | None) -> None:
    assert split_git_source(source) == expected


def test_a_bad_ref_is_refused_before_git_sees_it(tmp_path: Path) -> None:
    repo = _parent(tmp_path / "t")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "v1")
    with pytest.raises(UserError, match="not a valid git ref"):
        load_template_set(f"file://{repo}@--upload-pack=touch")


def test_credentials_in_a_failing_url_are_never_shown(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlscaffold",
            "new",
            "p",
            "--defaults",
            "--template",
            "https://bob:S3CRET@127.0.0.1:9/x.git",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "S3CRET" not in done.stderr + done.stdout
    assert "***@127.0.0.1" in done.stderr


def test_a_cookiecutter_template_is_the_base_with_stages_on_top(tmp_path: Path) -> None:
    parent = _parent(tmp_path / "parent")
    cc = tmp_path / "team" / "cc"
    inner = cc / "{{cookiecutter.project_slug}}"
    (inner / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    (cc / "cookiecutter.json").write_text(
        '{"project_name": "Fraud Finder",'
        " \"project_slug\": \"{{ cookiecutter.project_name.lower().replace(' ', '_') }}\","
        ' "license": ["MIT", "BSD"], "_copy_without_render": ["*.html"]}'
    )
    (inner / "{{cookiecutter.project_slug}}" / "__init__.py").write_text(
        '"""{{ cookiecutter.project_name }}"""\n'
    )
    (inner / "Makefile").write_text("lint:\n\truff check .\n")
    (inner / "page.html").write_text("{{ not rendered }}\n")
    (inner / "LICENSE").write_text("{{ cookiecutter.license }}\n")
    (tmp_path / "team" / "template.yaml").write_text(
        f"name: team\nversion: '1'\nextends: {parent}\nbase:\n  cookiecutter: cc\n"
    )
    sources = AnswerSources(defaults=True, set_values=("project_name=Fraud Finder",))
    result = new_project(dest=tmp_path / "p", template=str(tmp_path / "team"), sources=sources)
    out = result.dest
    assert (out / "fraud_finder" / "__init__.py").read_text() == '"""Fraud Finder"""\n'
    assert (out / "page.html").read_text() == "{{ not rendered }}\n"
    assert (out / "LICENSE").read_text() == "MIT\n"
    assert (out / "Makefile").read_text() == "lint:\n\truff check .\n"  # no make targets to add
    assert (out / "data.txt").exists()  # the stages are layered on top
    assert not (out / "src").exists()  # the parent base's package files follow the flat layout
    assert read_record(out).answers["base_package"] == "fraud_finder"


def test_the_default_template_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = _parent(tmp_path / "parent")
    monkeypatch.setenv("MLSCAFFOLD_TEMPLATE", str(parent))
    assert load_template_set(None).name == "parent"


def test_team_stages_can_be_chosen_and_only_chosen_stages_ask_and_run_code(tmp_path: Path) -> None:
    parent = _parent(tmp_path / "parent")
    team = tmp_path / "team"
    (team / "stages" / "lint" / "files").mkdir(parents=True)
    (team / "stages" / "lint" / "hooks").mkdir()
    (team / "template.yaml").write_text(f"name: team\nversion: '1'\nextends: {parent}\nstages: [lint]\n")
    (team / "stages" / "lint" / "manifest.yaml").write_text(
        "kind: stage\norder: 60\npurpose: the team's linters\n"
        "questions:\n  - {name: lint_level, prompt: 'Level?', type: str, required: true}\n"
    )
    (team / "stages" / "lint" / "files" / "lint.txt.jinja").write_text("{{ lint_level }}\n")
    canary = tmp_path / "hook-ran"
    (team / "stages" / "lint" / "hooks" / "post_gen_project.py").write_text(f"open({str(canary)!r}, 'w')\n")
    without = AnswerSources(defaults=True, set_values=("stages=data",))
    out = new_project(dest=tmp_path / "a", template=str(team), sources=without, trust=True).dest
    assert not (out / "lint.txt").exists() and not canary.exists()
    chosen = AnswerSources(defaults=True, set_values=("stages=data,lint", "lint_level=strict"))
    out = new_project(dest=tmp_path / "b", template=str(team), sources=chosen, trust=True).dest
    assert (out / "lint.txt").read_text() == "strict\n" and canary.exists()
    assert read_record(out).stages.keys() == {"data", "lint"}
