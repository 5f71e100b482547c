"""Cookiecutter templates as the base: rendered by the cookiecutter library, so every file that comes from
the template is byte-identical (mode included) to what `cookiecutter --no-input` writes with the same
answers, except the shared files mlscaffold merges into (docs/templates.md); the stages adapt to the
template (own package, namespaced make targets, CI that names targets that exist, sample data committed).

The templates are in tests/fixtures/cookiecutters/, one feature of public templates each (see README
there)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.record import read_record
from mlscaffold.errors import AnswerError, TemplateError, TrustError

FIXTURES = Path(__file__).parent / "fixtures" / "cookiecutters"
# The shared files mlscaffold merges into (docs/templates.md): appended to, or dependencies added.
APPENDED = {"Makefile", ".gitignore", ".dockerignore"}
MERGED = {*APPENDED, "pyproject.toml"}


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mlscaffold ARGS` with no terminal, as a script or CI job runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args], cwd=cwd, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, env=os.environ.copy(), timeout=120,
    )  # fmt: skip


def _cookiecutter(template: Path, out: Path, answers: dict[str, Any], hooks: bool = False) -> Path:
    """What the cookiecutter library writes for these answers, as `cookiecutter --no-input` does (HOME
    is the test's own, so no ~/.cookiecutterrc is read)."""
    from cookiecutter.main import cookiecutter

    made = cookiecutter(
        str(template), no_input=True, extra_context=answers, output_dir=str(out), accept_hooks=hooks,
        default_config=True,
    )  # fmt: skip
    return Path(made)


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _new(template: Path, dest: Path, answers: dict[str, str], **kwargs: Any) -> Path:
    sets = tuple(f"{k}={v}" for k, v in {"stages": "data", **answers}.items())
    sources = AnswerSources(defaults=True, set_values=sets)
    return new_project(dest=dest, template=str(template), sources=sources, **kwargs).dest


def _assert_same_as_cookiecutter(expected: dict[str, tuple[bytes, int]], got: Path) -> None:
    produced = _tree(got)
    missing = sorted(set(expected) - set(produced))
    assert not missing, missing
    for path, (data, mode) in expected.items():
        mine, my_mode = produced[path]
        if path in APPENDED:
            assert mine.startswith(data.rstrip(b"\r\n")), path  # lines appended, none changed
        elif path == "pyproject.toml":
            _assert_only_dependencies_added(tomllib.loads(data.decode()), tomllib.loads(mine.decode()))
        else:
            assert (mine, my_mode) == (data, mode), path


def _assert_only_dependencies_added(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    project, mine = theirs["project"], ours["project"]
    assert {k: v for k, v in mine.items() if k not in ("dependencies", "optional-dependencies")} == {
        k: v for k, v in project.items() if k not in ("dependencies", "optional-dependencies")
    }
    assert set(project.get("dependencies", [])) <= set(mine["dependencies"])
    for extra, deps in project.get("optional-dependencies", {}).items():
        assert set(deps) <= set(mine["optional-dependencies"][extra])
    assert {k: v for k, v in ours.items() if k != "project"} == {
        k: v for k, v in theirs.items() if k != "project"
    }


CASES = {
    # the defaults: a hyphenated distribution name, the time tag, private and dict variables
    "package-defaults": ("package", {"project_name": "Acme Fraud Tools"}),
    # a choice and a bool that change which files and lines there are
    "package-choices": (
        "package",
        {"project_name": "Risk Kit", "license": "BSD-3-Clause", "use_notice": "yes"},
    ),
    "datascience": ("datascience", {"project_name": "churn study", "open_source_license": "No license file"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_template_files_are_byte_identical_to_cookiecutters(case: str, tmp_path: Path) -> None:
    name, answers = CASES[case]
    given: dict[str, Any] = {k: (v == "yes" if v in ("yes", "no") else v) for k, v in answers.items()}
    expected = _tree(_cookiecutter(FIXTURES / name, tmp_path / "ref", given))
    got = _new(FIXTURES / name, tmp_path / "p", answers, git=False)
    _assert_same_as_cookiecutter(expected, got)


def test_every_cookiecutter_feature_comes_out_as_cookiecutter_renders_it(tmp_path: Path) -> None:
    got = _new(FIXTURES / "package", tmp_path / "p", {"project_name": "Acme Fraud Tools"}, git=False)
    readme = (got / "README.md").read_text()
    assert "`pip install acme-fraud-tools` then `import acme_fraud_tools`" in readme
    assert "Private: {{ never rendered }}; since 20" in readme  # `_x` raw, `__x` rendered
    assert "owner Ada Lovelace" in readme and '"line_length": "100"' in readme  # dict variable, jsonify
    assert re.search(r"Copyright \(c\) 20\d\d Ada Lovelace", (got / "LICENSE").read_text())  # {% now %}
    assert (got / "assets" / "banner.txt").read_text() == "copied as it is: {{ cookiecutter.project_name }}\n"
    assert (got / "scripts" / "run.bat").read_bytes().count(b"\r\n") == 2  # CRLF kept
    assert not (got / "NOTICE").exists()  # a name that renders empty is skipped
    record = read_record(got)
    assert record.answers["package_name"] == "acme-fraud-tools"
    assert record.answers["base_package"] == "acme_fraud_tools"


def test_the_pipeline_gets_its_own_package_and_entry_point_beside_the_templates(tmp_path: Path) -> None:
    got = _new(FIXTURES / "package", tmp_path / "p", {"project_name": "Acme Fraud Tools"}, git=False)
    main = got / "src" / "acme_fraud_tools" / "__main__.py"
    assert 'choices=["fetch-data", "hello"]' in main.read_text()  # the template's CLI, untouched
    assert (got / "src" / "acme_fraud_tools_pipeline" / "__main__.py").is_file()
    assert (got / "src" / "acme_fraud_tools_pipeline" / "stages" / "data.py").is_file()
    assert (got / "tests" / "conftest.py").read_text().startswith('"""The template\'s own fixtures')
    root_conftest = (got / "conftest.py").read_text()
    assert "ROOT = Path(__file__).resolve().parent\n" in root_conftest
    assert "from acme_fraud_tools_pipeline.__main__ import discover" in root_conftest


def _make_targets(makefile: str) -> set[str]:
    return set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*)\s*:(?!=)", makefile, re.M))


def test_make_targets_of_the_template_are_kept_and_ci_names_only_targets_that_exist(tmp_path: Path) -> None:
    sets = ("project_name=Acme Fraud Tools",)
    done = cli(tmp_path, "new", "p", "--template", str(FIXTURES / "package"), "--defaults", "--no-probe",
               *[a for s in sets for a in ("--set", s)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = tmp_path / "p"
    makefile = (got / "Makefile").read_text()
    original = (FIXTURES / "package" / "{{cookiecutter.package_name}}" / "Makefile").read_text()
    assert makefile.startswith(
        original.replace("{{ cookiecutter.module_name }}", "acme_fraud_tools").rstrip()
    )
    targets = _make_targets(makefile)
    assert {"data", "install", "lint", "ml-all", "ml-test", "ml-data"} <= targets and "all" not in targets
    next_line = next(line for line in done.stdout.splitlines() if line.startswith("next: "))
    assert "make ml-all" in next_line and "python -m pytest" in next_line and "make all" not in next_line
    called = set()
    for workflow in (got / ".github" / "workflows").glob("*.yml"):
        for match in re.finditer(r"\bmake((?:[ \t]+[A-Za-z][\w-]*)+)", workflow.read_text()):
            called.update(match.group(1).split())
    assert called and called <= targets, called - targets
    assert (got / ".github" / "workflows" / "ci.yml").read_text().startswith("name: ci\n")  # theirs


def test_sample_data_is_committed_even_when_the_template_ignores_data(tmp_path: Path) -> None:
    got = _new(FIXTURES / "package", tmp_path / "p", {"project_name": "Acme Fraud Tools"})
    assert "/data/" in (got / ".gitignore").read_text()
    tracked = subprocess.run(["git", "ls-files"], cwd=got, capture_output=True, text=True, check=True).stdout
    assert "data/sample/breast_cancer.csv" in tracked.split()
    clean = subprocess.run(
        ["git", "status", "--porcelain"], cwd=got, capture_output=True, text=True, check=True
    )
    assert clean.stdout == ""


def test_a_data_science_template_gets_the_pipeline_beside_src_not_inside_src_data(tmp_path: Path) -> None:
    got = _new(FIXTURES / "datascience", tmp_path / "p", {"project_name": "churn study"}, git=False)
    assert (got / "churn_study_pipeline" / "__main__.py").is_file()
    assert not any((got / "src" / sub / "stages").exists() for sub in ("", "data", "models"))
    pyproject = tomllib.loads((got / "pyproject.toml").read_text())
    assert "churn_study_pipeline" in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]


def test_a_template_with_code_needs_trust_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(TrustError, match=r"hooks.*local_extensions\.shout"):
        _new(FIXTURES / "trusted", tmp_path / "p", {"project_name": "Hooked"})
    assert not (tmp_path / "p").exists()


def test_trusted_hooks_render_with_jinja_and_local_extensions_load(tmp_path: Path) -> None:
    expected = _tree(
        _cookiecutter(FIXTURES / "trusted", tmp_path / "ref", {"project_name": "Hooked"}, hooks=True)
    )
    assert expected["owner.txt"][0] == b"Ada (risk)\n" and "REMOVE_ME.txt" not in expected
    got = _new(FIXTURES / "trusted", tmp_path / "p", {"project_name": "Hooked"}, trust=True, git=False)
    _assert_same_as_cookiecutter(expected, got)
    assert (got / "README.md").read_text().startswith("# HOOKED!\n")


def test_a_dry_run_runs_no_hook(tmp_path: Path) -> None:
    result = new_project(
        dest=tmp_path / "p", template=str(FIXTURES / "trusted"), trust=True, dry_run=True,
        sources=AnswerSources(defaults=True, set_values=("project_name=Hooked", "stages=data")),
    )  # fmt: skip
    assert "REMOVE_ME.txt" in result.files and "owner.txt" not in result.files
    assert not (tmp_path / "p").exists()


def test_a_failing_hook_stops_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"hooks/pre_gen_project hook: FailedHookException"):
        _new(FIXTURES / "trusted", tmp_path / "p", {"project_name": "Not An Identifier"}, trust=True)
    assert not (tmp_path / "p").exists()


def _template(root: Path, files: dict[str, str], config: str = '{"project_name": "Demo"}') -> Path:
    (root / "{{cookiecutter.project_name}}").mkdir(parents=True)
    (root / "cookiecutter.json").write_text(config)
    for rel, text in files.items():
        path = root / "{{cookiecutter.project_name}}" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% if %}\n", r"docs/guide\.md: template syntax error on line 1"),
        ("{{ cookiecutter.nope }}\n", r"docs/guide\.md: .*'nope'"),
        ("{{ ''.__class__.__mro__ }}\n", r"docs/guide\.md: refused by the sandbox"),
        ("{{ 'x' * 100000000 }}\n", r"docs/guide\.md: refused by the sandbox.*too large"),
    ],
)
def test_a_template_error_is_one_message_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    template = _template(tmp_path / "cc", {"docs/guide.md": text})
    done = cli(tmp_path, "new", "p", "--template", str(template), "--defaults", "--no-probe")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and re.search(expected, last), last
    assert "Traceback" not in done.stderr and not (tmp_path / "p").exists()


def test_an_answer_cannot_take_a_path_outside_the_project(tmp_path: Path) -> None:
    template = _template(tmp_path / "cc", {"{{cookiecutter.where}}/x.txt": "x\n"},
                         '{"project_name": "Demo", "where": "docs"}')  # fmt: skip
    canary = tmp_path / "escaped"
    with pytest.raises(TemplateError, match="unsafe path"):
        _new(template, tmp_path / "p", {"where": f"../../../{canary.name}"})
    assert not canary.exists() and not (tmp_path / "p").exists()


def test_a_path_both_sides_write_is_reported_before_anything_is_written(tmp_path: Path) -> None:
    template = _template(tmp_path / "cc", {"config.yaml": "theirs: true\n", "README.md": "# Demo\n"})
    with pytest.raises(TemplateError, match=r"writes 1 file\(s\) that the stages write too: config\.yaml"):
        _new(template, tmp_path / "p", {})
    assert not (tmp_path / "p").exists()


def test_several_packages_and_no_answer_naming_one_asks_for_base_package(tmp_path: Path) -> None:
    template = _template(tmp_path / "cc", {"alpha/__init__.py": "", "beta/__init__.py": ""})
    with pytest.raises(AnswerError, match=r"several packages \(alpha, beta\).*--set base_package=NAME"):
        _new(template, tmp_path / "p", {})
    got = _new(template, tmp_path / "q", {"base_package": "beta"}, git=False)
    assert (got / "beta_pipeline" / "__main__.py").is_file()


class _PicksBeta:
    """A person on a terminal: Enter for every question, 'beta' when asked for the package."""

    def __init__(self) -> None:
        self.offered: tuple[str, ...] = ()

    def ask(self, question: Any, *, default: Any, choices: tuple[Any, ...], validate: Any) -> Any:
        if question.name != "base_package":
            return default
        self.offered = tuple(c.value for c in choices)
        return "beta"

    def review(self, rows: Any, warnings: Any, **kwargs: Any) -> Any:
        from mlscaffold.wizard.asking import Review

        return Review("generate")


def test_on_a_terminal_the_person_picks_the_package_among_the_templates(tmp_path: Path) -> None:
    template = _template(tmp_path / "cc", {"alpha/__init__.py": "", "beta/__init__.py": ""})
    person = _PicksBeta()
    sources = AnswerSources(set_values=("stages=data",), asker=person)
    got = new_project(dest=tmp_path / "p", template=str(template), sources=sources, git=False).dest
    assert person.offered == ("alpha", "beta")
    assert (got / "beta_pipeline" / "__main__.py").is_file()
    assert read_record(got).answers["base_package"] == "beta"


def test_the_rendering_leaves_nothing_in_tmp(tmp_path: Path, tmpdir_left: Path) -> None:
    _new(FIXTURES / "package", tmp_path / "p", {"project_name": "Acme Fraud Tools"}, git=False)
    assert list(tmpdir_left.iterdir()) == []
    shutil.rmtree(tmp_path / "p")


def test_add_later_puts_a_stage_in_the_pipeline_package_beside_the_templates(tmp_path: Path) -> None:
    from mlscaffold.verbs.add import add_stages

    got = _new(FIXTURES / "package", tmp_path / "p", {"project_name": "Acme Fraud Tools"})
    before = (got / "src" / "acme_fraud_tools" / "__main__.py").read_bytes()
    result = add_stages(repo=got, stages=["baseline"], sources=AnswerSources(defaults=True))
    assert result.added == ("baseline",)
    assert (got / "src" / "acme_fraud_tools_pipeline" / "stages" / "baseline.py").is_file()
    assert not (got / "src" / "acme-fraud-tools").exists()
    assert (got / "src" / "acme_fraud_tools" / "__main__.py").read_bytes() == before
    assert "ml-train" in _make_targets((got / "Makefile").read_text())


def test_hooks_leave_nothing_in_tmp(tmp_path: Path, tmpdir_left: Path) -> None:
    _new(FIXTURES / "trusted", tmp_path / "p", {"project_name": "Hooked"}, trust=True, git=False)
    assert list(tmpdir_left.iterdir()) == []


def test_a_readme_in_another_format_is_the_templates_and_no_second_one_is_written(tmp_path: Path) -> None:
    template = _template(tmp_path / "cc", {"README.rst": "Demo\n====\n", "demo/__init__.py": ""})
    result = new_project(
        dest=tmp_path / "p", template=str(template), git=False,
        sources=AnswerSources(defaults=True, set_values=("stages=data",)),
    )  # fmt: skip
    assert (result.dest / "README.rst").read_text() == "Demo\n====\n"
    assert not (result.dest / "README.md").exists()
    assert "README.md: not written; the template has its own README.rst" in result.merges
