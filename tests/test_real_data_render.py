"""What a project generated for a user's own data looks like, before anything runs (issue 14): the
data is copied into the project and referred to by a relative path, no unrelated sample ships, and
the serving files follow the container conventions. Fast: rendering only."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlscaffold.verbs.new import new_project
from mlscaffold.wizard.sources import AnswerSources

CSV = "age,plan,churned\n" + "".join(f"{20 + i % 40},{'ab'[i % 2]},{i % 3 == 0}\n" for i in range(60))


def render(dest: Path, *answers: str) -> Path:
    result = new_project(dest=dest, sources=AnswerSources(set_values=answers, defaults=True), git=False)
    return result.dest


def users_csv_project(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    elsewhere = tmp_path / "exports" / "customers 2024.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text(CSV, encoding="utf-8")
    project = render(
        tmp_path / "churn",
        "data_source=csv",
        f"data_path={elsewhere}",
        "target=churned",
        *extra,
    )
    return project, elsewhere


def test_a_users_csv_is_copied_into_the_project_with_a_relative_path(tmp_path: Path) -> None:
    project, original = users_csv_project(tmp_path)
    config = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    assert config["data"]["path"] == "data/raw/customers 2024.csv"
    assert (project / config["data"]["path"]).read_bytes() == original.read_bytes()
    record = yaml.safe_load((project / ".mlscaffold.yaml").read_text(encoding="utf-8"))
    assert str(tmp_path) not in yaml.safe_dump(record)  # nothing points back at this machine
    # data stays out of git (the team's no-large-files rule); CI names the file when it is missing
    assert "data/raw/" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    steps = [step.get("name") for step in workflow["jobs"]["pipeline"]["steps"]]
    assert steps.index("Data present") < steps.index("Pipeline (data -> train -> evaluate gate -> ...)")


def test_only_the_sample_that_belongs_ships(tmp_path: Path) -> None:
    project, _ = users_csv_project(tmp_path)
    assert not (project / "data" / "sample").exists()
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "shipped sample" not in readme
    assert "data/raw/customers 2024.csv" in readme
    sample = render(tmp_path / "demo", "task_type=regression")
    assert sorted(p.name for p in (sample / "data" / "sample").iterdir()) == ["diabetes.csv"]


def test_a_missing_or_remote_data_path_is_left_as_given(tmp_path: Path) -> None:
    gone = tmp_path / "nowhere.csv"
    project = render(tmp_path / "p", "data_source=csv", f"data_path={gone}", "target=y")
    config = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    assert config["data"]["path"] == str(gone)
    assert not (project / "data" / "raw").exists()


def test_the_dockerfile_installs_dependencies_before_copying_the_code(tmp_path: Path) -> None:
    project = render(tmp_path / "svc", "serving=online")
    lines = (project / "Dockerfile").read_text(encoding="utf-8").splitlines()
    steps = [line for line in lines if line and not line.startswith(("#", " "))]
    requirements = next(i for i, s in enumerate(steps) if "requirements.txt" in s)
    code = steps.index("COPY src ./src")
    assert requirements < code
    assert any("--no-deps" in s for s in steps[code:])
    assert "ENV PORT=8000" in steps
    assert "--port" not in steps[-1]  # `serve` reads $PORT
    assert any("readiness.json" in s for s in steps)  # the gate's verdict ships with the model
    ignore = (project / ".dockerignore").read_text(encoding="utf-8")
    assert "!reports/readiness.json" in ignore


def test_make_serve_passes_port_and_force(tmp_path: Path) -> None:
    project = render(tmp_path / "svc")
    deploy_mk = (project / "mk" / "40-deploy.mk").read_text(encoding="utf-8")
    assert "$(if $(PORT),--port $(PORT),)" in deploy_mk
    assert deploy_mk.count("$(FORCE_FLAG)") == 3  # deploy, serve, batch


def test_serving_docs_do_not_call_pandas_the_standard_library(tmp_path: Path) -> None:
    text = (render(tmp_path / "svc") / "docs" / "serving.md").read_text(encoding="utf-8")
    assert "standard library only" not in text
    assert "--force" in text and "input_margin" in text


def test_the_text_heuristic_is_not_called_a_one_feature_rule(tmp_path: Path) -> None:
    project = render(tmp_path / "txt", "task_type=text_classification")
    text = (project / "docs" / "formulation.md").read_text(encoding="utf-8")
    assert "one-feature rule" not in text
    assert "keyword" in text
