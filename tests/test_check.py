"""`mlscaffold check`: policy sources and validation, each rule, the output formats, exit codes.

Fake credentials are assembled at run time so this file never holds one itself.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
from pathlib import Path

import pytest
from fake_project import FORMULATION, commit, git, make_project, write
from helpers import cli_in_process
from hypothesis import given
from hypothesis import strategies as st

from mlscaffold.conventions import CheckReport, check_repo, format_report
from mlscaffold.conventions.pyspec import admits
from mlscaffold.errors import UserError
from mlscaffold.repoview.ci import ci_commands, make_targets, read_makefile
from mlscaffold.repoview.globs import matches
from mlscaffold.repoview.view import RepoView

AWS = "AKIA" + "Q3EXAMPLEKEY7XYZ"
GITHUB = "ghp" + "_" + "a1B2c3D4" * 4 + "e5F6"
PASSWORD = "hunter2" + "-Xq9"
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----"


def ids(report: CheckReport) -> list[str]:
    return [f.rule_id for f in report.findings]


def policy_file(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ the default policy


def test_fake_generated_project_passes_the_default_policy(tmp_path: Path) -> None:
    report = check_repo(repo=make_project(tmp_path / "p"))
    assert report.findings == ()
    assert not report.failed
    assert report.policy_source == "built-in default policy"
    assert set(report.rules_run) == {
        "required-files", "formulation-filled", "ci-readiness-gate", "no-secrets",
        "no-large-files", "python-version",
    }  # fmt: skip
    assert report.git_tracked and report.files_checked >= 15


def test_repo_without_ci_formulation_or_python_version_fails(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        {"pyproject.toml": '[project]\nname = "x"\n'},
        drop=(".github/workflows/ci.yml", "docs/formulation.md"),
    )
    report = check_repo(repo=root)
    assert report.failed
    assert ids(report) == ["formulation-filled", "ci-readiness-gate", "python-version"]
    assert report.findings[0].severity == "warning"  # the canvas is a warning by default


# ------------------------------------------------------------------------------ secrets


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f"AWS_ACCESS_KEY_ID={AWS}\n", "AWS key"),
        (f"token = '{GITHUB}'\n", "GitHub token"),
        (f"url: postgresql://etl:{PASSWORD}@db.internal:5432/sales\n", "password in a URL"),
        (f'DB_PASSWORD = "{PASSWORD}"\n', "hard-coded password or key"),
        ('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9Lm3T2Ab"\n', "AWS key"),
        (f"{PRIVATE_KEY}\nMIIEow\n", "private key"),
    ],
)
def test_secrets_are_found_with_file_and_line_but_never_shown(tmp_path: Path, line: str, kind: str) -> None:
    root = make_project(tmp_path / "p", {"src/churn_model/settings.py": "# settings\n" + line})
    report = check_repo(repo=root)
    found = [f for f in report.findings if f.rule_id == "no-secrets"]
    assert len(found) == 1
    assert (found[0].file, found[0].line, found[0].severity) == ("src/churn_model/settings.py", 2, "error")
    assert kind in found[0].message
    secret = line.split("=")[-1].split("etl:")[-1].strip().strip("'\"")[:12]
    for fmt in ("text", "json", "sarif"):
        assert secret not in format_report(report, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    [
        "url: postgresql://user:${DB_PASSWORD}@db/sales\n",
        "url: postgresql://user:<password>@db/sales\n",
        "password = os.environ['DB_PASSWORD']\n",
        'api_key: "your-api-key-here"\n',
        "see https://example.org/docs?a=1 and mail me@example.org\n",
        f'password = "{PASSWORD}"  # pragma: allowlist secret\n',
    ],
)
def test_placeholders_and_allowlisted_lines_are_not_secrets(tmp_path: Path, line: str) -> None:
    root = make_project(tmp_path / "p", {"docs/setup.md": line})
    assert "no-secrets" not in ids(check_repo(repo=root))


def test_only_tracked_files_are_scanned_in_git_and_all_files_outside_git(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, {"notes/untracked.txt": f"key {AWS}\n", "data/processed/x.csv": f"{AWS}\n"})
    assert "no-secrets" not in ids(check_repo(repo=root))

    plain = make_project(tmp_path / "plain", use_git=False)
    write(plain, {"notes/untracked.txt": f"key {AWS}\n", "data/processed/x.csv": f"{AWS}\n",
                  ".venv/pyvenv.cfg": "", ".venv/lib/x.py": f"{AWS}\n"})  # fmt: skip
    report = check_repo(repo=plain)
    assert not report.git_tracked
    assert [(f.rule_id, f.file) for f in report.errors] == [("no-secrets", "notes/untracked.txt")]


def test_secret_exclusions_from_the_policy(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"tests/fixtures/creds.txt": f"{AWS}\n"})
    policy = policy_file(tmp_path, "extends: default\nsecrets: {exclude: ['tests/fixtures/']}\n")
    assert "no-secrets" in ids(check_repo(repo=root))
    assert "no-secrets" not in ids(check_repo(repo=root, policy_file=policy))


# ------------------------------------------------------------------------------ large files


def test_large_tracked_files_are_flagged_unless_ignored_lfs_or_excluded(tmp_path: Path) -> None:
    big = b"x" * (1024 * 1024 + 10)
    root = make_project(tmp_path / "p", {"data/sample/big.csv": big})
    found = [f for f in check_repo(repo=root).findings if f.rule_id == "no-large-files"]
    assert [(f.file, f.severity) for f in found] == [("data/sample/big.csv", "error")]
    assert "1.0 MB" in found[0].message and "1024 KB" in found[0].message

    write(root, {"data/processed/huge.parquet": big})  # ignored by git: not flagged
    commit(root, {".gitattributes": "*.csv filter=lfs diff=lfs merge=lfs -text\n"})
    assert "no-large-files" not in ids(check_repo(repo=root))

    policy = policy_file(tmp_path, "large_files: {max_kb: 0.5}\n")
    small = [f.file for f in check_repo(repo=root, policy_file=policy).findings]
    assert "README.md" not in small and "docs/formulation.md" in small


# ------------------------------------------------------------------------------ formulation


def test_formulation_placeholders_and_empty_sections_are_named_with_lines(tmp_path: Path) -> None:
    text = (
        "# Formulation\n\n## 1. Value proposition\n- End user: TODO\n\n## 2. Prediction task\n\n"
        "<!-- fill me -->\n\n## 3. Decisions\n### 3.1 Rule\nCall when p > 0.7.\n\n"
        "## 4. Data\n```\n{{ not a placeholder inside code }}\n```\n- Source: {{ data_source }}\n"
    )
    root = make_project(tmp_path / "p", {"docs/formulation.md": text})
    found = [(f.line, f.message) for f in check_repo(repo=root).findings if f.rule_id == "formulation-filled"]
    assert found == [
        (4, "placeholder text 'TODO' left to fill in"),
        (6, "section '2. Prediction task' is empty"),
        (18, "placeholder text '{{ data_source }}' left to fill in"),
    ]


def test_formulation_can_be_an_error_and_use_own_file_and_placeholders(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"docs/canvas.md": "# Canvas\n\n## Goal\nXXX-FILL\n"})
    policy = policy_file(
        tmp_path,
        "formulation: {file: docs/canvas.md, placeholders: ['XXX-FILL']}\n"
        "severity: {formulation-filled: error}\n",
    )
    report = check_repo(repo=root, policy_file=policy)
    assert [(f.rule_id, f.severity, f.line) for f in report.findings] == [("formulation-filled", "error", 4)]


# ------------------------------------------------------------------------------ CI gate


@pytest.mark.parametrize(
    ("run", "passes"),
    [
        ("make all", True),
        ("make -j1 evaluate", True),
        ("python -m churn_model evaluate", True),
        ("make", True),  # the default goal is `all`
        ("make test", False),
        ("make lint && pytest", False),
    ],
)
def test_ci_gate_follows_make_targets(tmp_path: Path, run: str, passes: bool) -> None:
    ci = "on: [push]\njobs:\n  x:\n    steps:\n      - run: " + run + "\n"
    root = make_project(tmp_path / "p", {".github/workflows/ci.yml": ci})
    assert ("ci-readiness-gate" not in ids(check_repo(repo=root))) is passes


@pytest.mark.parametrize(
    ("makefile", "run", "says"),
    [
        (None, "make all", "the repo has no Makefile"),
        (None, "make evaluate", "the repo has no Makefile"),
        ("lint:\n\truff check .\n", "make all", "has no 'all' target"),
        ("all: lint\nlint:\n\truff check .\n", "make all", "no CI workflow runs the readiness gate"),
    ],
)
def test_ci_gate_needs_a_target_that_exists_and_reaches_evaluate(
    tmp_path: Path, makefile: str | None, run: str, says: str
) -> None:
    ci = "on: [push]\njobs:\n  x:\n    steps:\n      - run: " + run + "\n"
    root = make_project(tmp_path / "p", {".github/workflows/ci.yml": ci}, drop=("Makefile",))
    if makefile is not None:
        commit(root, {"Makefile": makefile})
    found = [f for f in check_repo(repo=root).findings if f.rule_id == "ci-readiness-gate"]
    assert len(found) == 1 and says in found[0].message, found


def test_ci_gate_reaches_the_gate_through_recursive_make(tmp_path: Path) -> None:
    makefile = "ci:\n\t$(MAKE) check-all\ncheck-all: lint evaluate\nevaluate:\n\tpython -m pkg evaluate\n"
    ci = "on: [push]\njobs:\n  x:\n    steps:\n      - run: make ci\n"
    root = make_project(tmp_path / "p", {".github/workflows/ci.yml": ci, "Makefile": makefile})
    assert "ci-readiness-gate" not in ids(check_repo(repo=root))


def test_makefile_reading_expands_included_pipeline(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    repo = RepoView(root)
    mk = read_makefile(repo)
    assert mk is not None
    assert mk.expand("$(PIPELINE)").split() == ["data", "train", "evaluate"]
    assert mk.reach(["all"]) == ["all", "data", "train", "evaluate"]
    cmds = [(c.via, c.text) for c in ci_commands(repo) if c.via == "evaluate"]
    assert ("evaluate", "python -m churn_model evaluate") in cmds
    assert make_targets("cd x && make -C . data train") == ["data", "train"]
    assert make_targets("cmake --build .") is None


# ------------------------------------------------------------------------------ python, record


def test_python_version_policy(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    ok = policy_file(tmp_path, "python: {versions: ['3.11', '3.12']}\n", "ok.yaml")
    bad = policy_file(tmp_path, "python: {versions: ['3.10']}\n", "bad.yaml")
    assert check_repo(repo=root, policy_file=ok).findings == ()
    (finding,) = check_repo(repo=root, policy_file=bad).findings
    assert finding.file == "pyproject.toml" and "excludes Python 3.10" in finding.message
    assert admits(">=3.10,<3.13,!=3.11.*", "3.12") and not admits(">=3.10,!=3.11.*", "3.11")
    assert admits("~=3.11", "3.13") and not admits("~=3.11.2", "3.12")


def test_required_stages_answers_and_files(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    policy = policy_file(
        tmp_path,
        "required_stages: [data, evaluate, monitor]\n"
        "required_answers: [ready_threshold, owner]\n"
        "required_files: [LICENSE, 'tests/test_*.py']\n",
    )
    report = check_repo(repo=root, policy_file=policy)
    assert [(f.rule_id, f.message.split(";")[0]) for f in report.findings] == [
        ("required-stages", "required stage 'monitor' is not applied"),
        ("required-files", "required file 'LICENSE' is not tracked by git"),
        ("required-answers", "answer 'owner' is not set"),
    ]
    no_record = make_project(tmp_path / "q", drop=(".mlscaffold.yaml",))
    messages = [f.message for f in check_repo(repo=no_record, policy_file=policy).findings]
    assert any("no .mlscaffold.yaml record" in m for m in messages)


def test_custom_rules(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"src/churn_model/explore.ipynb": "{}"})
    policy = policy_file(
        tmp_path,
        """\
custom:
  - id: no-notebooks-in-src
    forbid_files: ['src/**/*.ipynb']
    message: notebooks live in notebooks/, not in the package
  - id: license
    require_files: LICENSE
    severity: warning
  - id: seed-pinned
    require_text: {file: config.yaml, pattern: '^\\s*seed:\\s*\\d+'}
    message: pin the random seed in config.yaml
""",
    )
    report = check_repo(repo=root, policy_file=policy)
    assert [(f.rule_id, f.severity, f.file) for f in report.findings] == [
        ("no-notebooks-in-src", "error", "src/churn_model/explore.ipynb"),
        ("license", "warning", None),
        ("seed-pinned", "error", "config.yaml"),
    ]
    assert report.rules_run == ("no-notebooks-in-src", "license", "seed-pinned")


# ------------------------------------------------------------------------------ policy sources


def test_policy_precedence_file_then_pyproject_then_team_template_then_default(tmp_path: Path) -> None:
    team = tmp_path / "team-template"
    write(team, {"policy.yaml": "required_files: [TEAM.md]\n"})
    record = (tmp_path / "rec.yaml").write_text("")
    del record
    root = make_project(tmp_path / "p")
    text = (root / ".mlscaffold.yaml").read_text().replace("source: builtin", f"source: {team}")
    (root / ".mlscaffold.yaml").write_text(text)
    assert check_repo(repo=root).policy_source == str(team / "policy.yaml")
    assert ids(check_repo(repo=root)) == ["required-files"]

    pyproject = (root / "pyproject.toml").read_text() + '\n[tool.mlscaffold]\nrequired_files = ["PY.md"]\n'
    (root / "pyproject.toml").write_text(pyproject)
    report = check_repo(repo=root)
    assert report.policy_source.endswith("pyproject.toml [tool.mlscaffold]")
    assert "PY.md" in report.findings[0].message

    toml = policy_file(tmp_path, 'required_files = ["CLI.md"]\n', "team.toml")
    report = check_repo(repo=root, policy_file=toml)
    assert report.policy_source == str(toml) and "CLI.md" in report.findings[0].message
    assert "PY.md" in check_repo(repo=root, policy_file=root / "pyproject.toml").findings[0].message


@pytest.mark.parametrize("source", ["team", "team@v2", "odd@name"])
def test_relative_team_template_source_is_read_from_the_repo(tmp_path: Path, source: str) -> None:
    folder = source.split("@")[0] if source.endswith("v2") else source
    root = make_project(tmp_path / "p", {f"{folder}/policy.yaml": "required_files: [X.md]\n"})
    text = (root / ".mlscaffold.yaml").read_text().replace("source: builtin", f"source: {source}")
    (root / ".mlscaffold.yaml").write_text(text)
    assert check_repo(repo=root).policy_source == str(root / folder / "policy.yaml")


def test_a_git_url_template_source_falls_back_to_the_default(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    text = (root / ".mlscaffold.yaml").read_text()
    (root / ".mlscaffold.yaml").write_text(
        text.replace("source: builtin", "source: https://example.org/t.git@v1")
    )
    assert check_repo(repo=root).policy_source == "built-in default policy"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "required_file: [README.md]\n",
            "unknown policy key 'required_file' (did you mean 'required_files'?)",
        ),
        (
            "large_files: {max_k: 10}\n",
            "unknown policy key 'large_files.max_k' (did you mean 'large_files.max_kb'?)",
        ),
        (
            "secrets: true\nseverity: {no-secret: warning}\n",
            "'severity.no-secret' (did you mean 'severity.no-secrets'?)",
        ),
        (
            "custom:\n  - {id: x, forbid_file: [a]}\n",
            "'custom[0].forbid_file' (did you mean 'custom[0].forbid_files'?)",
        ),
        ("", "the policy is empty"),
        ("{}\n", "the policy is empty"),
        ("secrets: false\nlarge_files: false\n", "every rule is turned off"),
        (
            "extends: default\nseverity: {no-secrets: off, no-large-files: off, required-files: off,"
            " formulation-filled: off, ci-readiness-gate: off, python-version: off}\n",
            "every rule is turned off",
        ),
        ("large_files: {max_kb: -1}\n", "'large_files.max_kb' must be a positive number"),
        (
            "formulation: {placeholders: ['(']}\n",
            "'formulation.placeholders[0]' is not a valid regular expression",
        ),
        ("python: {versions: ['three']}\n", "is not a version"),
        ("formulation: {file: [a.md, b.md]}\n", "'formulation.file' must be one path"),
        ("custom:\n  - {id: no-secrets, forbid_files: [a]}\n", "is the id of a built-in rule"),
        ("custom:\n  - {id: a, forbid_files: [x], require_files: [y]}\n", "needs exactly one of"),
        ("extends: strict\n", "'extends' must be 'default' or 'none'"),
        ("extends: default\nseverity: warning\n", "'severity' must be a mapping of rule ids to error"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_policies_are_user_errors_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    root = make_project(tmp_path / "p")
    with pytest.raises(UserError) as err:
        check_repo(repo=root, policy_file=policy_file(tmp_path, text))
    assert message in str(err.value)
    assert "policy.yaml" in str(err.value)


def test_policy_file_must_be_yaml_or_toml(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    with pytest.raises(UserError, match="must be YAML"):
        check_repo(repo=root, policy_file=policy_file(tmp_path, "{}", "policy.ini"))
    with pytest.raises(UserError, match="file not found"):
        check_repo(repo=root, policy_file=tmp_path / "missing.yaml")


def test_empty_tool_table_in_pyproject_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.mlscaffold]\n')
    with pytest.raises(UserError, match=r"pyproject.toml \[tool.mlscaffold\]: the policy is empty"):
        check_repo(repo=root)


# ------------------------------------------------------------------------------ output formats


def test_json_output(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"cfg.py": f"KEY = '{AWS}'\n"})
    data = json.loads(format_report(check_repo(repo=root), "json"))
    assert data["ok"] is False and data["summary"] == {"errors": 1, "warnings": 0}
    assert data["findings"] == [
        {"rule_id": "no-secrets", "severity": "error", "file": "cfg.py", "line": 1,
         "message": data["findings"][0]["message"]}
    ]  # fmt: skip


def test_sarif_output_is_valid_sarif_2_1_0_for_code_scanning(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"cfg.py": f"KEY = '{AWS}'\n"}, drop=("LICENSE",))
    policy = policy_file(tmp_path, "extends: default\nrequired_files: [LICENSE]\n")
    sarif = json.loads(format_report(check_repo(repo=root, policy_file=policy), "sarif"))
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "mlscaffold"
    assert len({r["id"] for r in rules}) == len(rules) == 6
    for result in run["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (loc,) = result["locations"]
        assert loc["physicalLocation"]["region"]["startLine"] >= 1
        assert not loc["physicalLocation"]["artifactLocation"]["uri"].startswith("/")
    by_rule = {r["ruleId"]: r for r in run["results"]}
    uri = by_rule["no-secrets"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "cfg.py"
    anchor = by_rule["required-files"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert anchor == ".mlscaffold.yaml"


def test_text_output(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"cfg.py": f"KEY = '{AWS}'\n"})
    text = format_report(check_repo(repo=root), "text")
    assert "cfg.py:1: error: possible AWS key" in text
    assert text.rstrip().endswith("failed: 1 error, 0 warnings")
    ok = format_report(check_repo(repo=make_project(tmp_path / "q")), "text")
    assert ok.rstrip().endswith("ok: no violations")


@given(
    name=st.text(alphabet="ab.c_", min_size=1, max_size=8),
    folders=st.lists(st.text(alphabet="ab", min_size=1, max_size=3), max_size=3),
    pattern=st.text(alphabet="ab.c_*?", min_size=1, max_size=6),
)
def test_a_pattern_without_a_slash_matches_any_path_segment_like_gitignore(
    name: str, folders: list[str], pattern: str
) -> None:
    path = "/".join([*folders, name])
    expected = any(fnmatch.fnmatchcase(part, pattern) for part in [*folders, name])
    assert matches(path, pattern) is expected


def test_globs() -> None:
    assert matches("a/b/x.ipynb", "*.ipynb") and matches("src/x.py", "src/**/*.py")
    assert not matches("lib/src/x.py", "src/**/*.py") and matches("lib/src/x.py", "**/src/*.py")
    assert matches("data/raw/a/b.csv", "data/raw/") and not matches("data/rawer.csv", "data/raw/")
    assert matches("tests/test_a.py", "tests/test_?.py") and matches("x.yml", "*.[yj]ml")
    assert matches("x/y/z.py", "x/**") and not matches("x/y/z.py", "x/a**")
    assert matches("docs/a-b.md", "docs/a**b.md") and not matches("docs/a/b.md", "docs/a**b.md")


# ------------------------------------------------------------------------------ the command line


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in this process (helpers.cli_in_process): exit codes, output and the files it writes
    are the subject here; the process around it is test_cli.py's and test_reliability.py's."""
    return cli_in_process(*args, cwd=cwd)


def test_cli_exit_codes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert run_cli("check", str(root), cwd=tmp_path).returncode == 0
    commit(root, {"cfg.py": f"KEY = '{AWS}'\n"})
    failed = run_cli("check", "--format", "json", str(root), cwd=tmp_path)
    assert failed.returncode == 1 and json.loads(failed.stdout)["ok"] is False
    assert AWS not in failed.stdout + failed.stderr
    bad = run_cli("check", "--policy", str(policy_file(tmp_path, "secret: true\n")), str(root), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error:") and "did you mean 'secrets'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_template_drift_is_checked_on_the_files_the_policy_names(tmp_path: Path) -> None:
    made = run_cli(
        "new", str(tmp_path / "fresh"), "--defaults", "--set", "stages=data,baseline", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    root = tmp_path / "fresh"
    policy = policy_file(tmp_path, "template_drift: {paths: [Makefile, 'mk/']}\n")
    assert check_repo(repo=root, policy_file=policy).findings == ()
    commit(root, {"Makefile": (root / "Makefile").read_text() + "\nextra:\n\techo hi\n"})
    commit(root, {"config.yaml": (root / "config.yaml").read_text() + "\n# tuned by hand\n"})
    (finding,) = check_repo(repo=root, policy_file=policy).findings
    assert (finding.rule_id, finding.file) == ("template-drift", "Makefile")
    assert "mlscaffold diff" in finding.message


def test_template_drift_without_a_record(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", drop=(".mlscaffold.yaml",))
    (finding,) = check_repo(repo=root, policy_file=policy_file(tmp_path, "template_drift: true\n")).findings
    assert "no .mlscaffold.yaml record" in finding.message


def test_a_workflow_that_is_not_valid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = (
        "on: [push]\njobs:\n  x:\n    steps:\n      - name: Fetch (sample: rebuild)\n        run: make all\n"
    )
    root = make_project(tmp_path / "p", {".github/workflows/nightly.yml": broken})
    (finding,) = check_repo(repo=root).findings
    assert (finding.rule_id, finding.file, finding.line) == (
        "ci-readiness-gate",
        ".github/workflows/nightly.yml",
        5,
    )
    assert "CI cannot run this workflow: not valid YAML" in finding.message


# ------------------------------------------------------------------------------ docs and the hook

DOCS = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"


def _doc_block(marker: str, lang: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"```{lang}\n", text.index(marker)) + len(lang) + 4
    return text[start : text.index("```", start)]


def test_the_worked_example_policy_in_the_docs_works(tmp_path: Path) -> None:
    gap = FORMULATION.replace("retention team", "_not specified yet_") + "\n## 13. Notes\n\nNone.\n"
    root = make_project(
        tmp_path / "p",
        {
            "src/churn_model/explore.ipynb": "{}",
            "docs/formulation.md": gap,
            "config.yaml": "split:\n  seed: 42\n",
        },
    )
    text = (
        (root / ".mlscaffold.yaml")
        .read_text()
        .replace("evaluate: {version: 0.1.0}", "evaluate: {}\n  monitor: {}")
    )
    commit(root, {".mlscaffold.yaml": text})
    policy = policy_file(tmp_path, _doc_block("<!-- example: team-policy -->", "yaml"))
    report = check_repo(repo=root, policy_file=policy)
    assert len(report.rules_run) == 11
    assert [(f.rule_id, f.severity) for f in report.findings] == [
        ("formulation-filled", "error"),
        ("no-notebooks-in-src", "error"),
        ("changelog", "warning"),
    ]


def test_the_pyproject_example_in_the_docs_is_a_valid_policy(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    pyproject = (root / "pyproject.toml").read_text() + "\n" + _doc_block("The same policy in", "toml")
    (root / "pyproject.toml").write_text(pyproject)
    report = check_repo(repo=root)
    assert "no-notebooks-in-src" in report.rules_run and "required-answers" in report.rules_run
    assert report.findings == ()


def test_default_policy_in_the_docs_is_the_built_in_one() -> None:
    import yaml

    from mlscaffold.conventions.policy import DEFAULT_POLICY

    assert yaml.safe_load(_doc_block("### The built-in default policy", "yaml")) == DEFAULT_POLICY


def test_pre_commit_hook_definition() -> None:
    import yaml

    hooks = yaml.safe_load((DOCS.parents[1] / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "mlscaffold-check" and hook["entry"] == "mlscaffold check"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert "mlscaffold-check" in _doc_block("## As a pre-commit hook", "yaml")


# ------------------------------------------------------------------------------ P13: fresh projects pass


@pytest.mark.parametrize(
    "sets",
    [
        ["task_type=binary_classification"],
        ["task_type=multiclass_classification"],
        ["task_type=regression"],
        ["task_type=text_classification"],
        ["stages=data,baseline,evaluate,deploy"],
        ["stages=data,baseline", "--no-git"],
    ],
)
def test_a_fresh_project_passes_the_default_policy(tmp_path: Path, sets: list[str]) -> None:
    args = [a for s in sets for a in (["--set", s] if "=" in s else [s])]
    made = run_cli("new", str(tmp_path / "fresh"), "--defaults", *args, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    report = check_repo(repo=tmp_path / "fresh")
    assert report.errors == (), format_report(report, "text")
    assert report.git_tracked is ("--no-git" not in sets)


@pytest.mark.parametrize("use_git", [True, False])
def test_symlinks_are_not_followed_out_of_the_repo(tmp_path: Path, use_git: bool) -> None:
    outside = tmp_path / "outside"
    write(outside, {"creds.txt": f"{AWS}\n", "huge.bin": "x" * (2 * 1024 * 1024)})
    root = make_project(tmp_path / "p", use_git=False)
    (root / "linked-creds.txt").symlink_to(outside / "creds.txt")
    (root / "linked-huge.bin").symlink_to(outside / "huge.bin")
    if use_git:
        git(root, "init", "-q")
        commit(root, {})
    report = check_repo(repo=root)
    assert report.git_tracked is use_git and "linked-creds.txt" in RepoView(root).files
    assert report.errors == ()


def test_required_paths_are_named_from_the_root(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"docs/LICENSE": "MIT\n"})
    policy = policy_file(tmp_path, "required_files: [LICENSE, '**/LICENSE', docs/, 'src/*/features.py']\n")
    (finding,) = check_repo(repo=root, policy_file=policy).findings
    assert finding.message.startswith("required file 'LICENSE' is not tracked")
