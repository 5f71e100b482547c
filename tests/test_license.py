"""The generated project's licence: the `license` answer becomes LICENSE, the SPDX `license` field of
pyproject.toml and a line in the README; the copyright year is an answer, so updates leave it alone."""

from __future__ import annotations

import datetime
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.licenses import canonicalize_license_expression

from mlscaffold import AnswerSources, new_project

REPO = Path(__file__).resolve().parents[1]
LICENSE_QUESTION = next(
    q for q in yaml.safe_load((REPO / "templates" / "template.yaml").read_text())["questions"]
    if q["name"] == "license"
)  # fmt: skip
SPDX_CHOICES = [c["value"] for c in LICENSE_QUESTION["choices"] if c["value"] not in ("proprietary", "none")]

# A phrase only the named licence's text has, and where its copyright notice stands.
NOTICE = "Copyright (c) {year} {holder}\n"
FINGERPRINTS = {
    "MIT": ("Permission is hereby granted, free of charge", NOTICE),
    "BSD-3-Clause": ("Neither the name of the copyright holder nor the names of its", NOTICE),
    "Apache-2.0": ("TERMS AND CONDITIONS FOR USE, REPRODUCTION", "   Copyright {year} {holder}\n"),
    "proprietary": ("proprietary and confidential", "Copyright (c) {year} {holder}. All rights reserved.\n"),
}  # fmt: skip


def generate(dest: Path, *sets: str, git: bool = False) -> Path:
    sources = AnswerSources(defaults=True, set_values=sets)
    return new_project(dest=dest, sources=sources, git=git).dest


def pyproject(project: Path) -> dict[str, object]:
    project_table: dict[str, object] = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return project_table


def test_the_offered_licences_are_spdx_identifiers() -> None:
    assert SPDX_CHOICES == ["MIT", "Apache-2.0", "BSD-3-Clause"]
    for value in SPDX_CHOICES:
        assert canonicalize_license_expression(value) == value


@pytest.mark.parametrize("choice", [*SPDX_CHOICES, "proprietary"])
def test_each_licence_is_written_with_its_notice(tmp_path: Path, choice: str) -> None:
    project = generate(tmp_path / "demo", f"license={choice}", "owner=Acme ML team", "copyright_year=2024")
    text = (project / "LICENSE").read_text(encoding="utf-8")
    phrase, notice = FINGERPRINTS[choice]
    assert phrase in text
    assert notice.format(year=2024, holder="Acme ML team") in text
    others = [p for c, (p, _) in FINGERPRINTS.items() if c != choice]
    assert not any(other in text for other in others)
    assert "[yyyy]" not in text and "{{" not in text and "{%" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    table = pyproject(project)
    expected = choice if choice != "proprietary" else "LicenseRef-Proprietary"
    assert table["license"] == expected == canonicalize_license_expression(str(table["license"]))
    assert table["license-files"] == ["LICENSE"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "## Licence" in readme and "2024 Acme ML team" in readme


def test_a_proprietary_project_cannot_be_uploaded_to_pypi_by_accident(tmp_path: Path) -> None:
    project = generate(tmp_path / "internal", "license=proprietary")
    assert pyproject(project)["classifiers"] == ["Private :: Do Not Upload"]
    mit = generate(tmp_path / "open", "license=MIT")
    assert "classifiers" not in pyproject(mit)


def test_no_licence_writes_no_file_and_no_field(tmp_path: Path) -> None:
    project = generate(tmp_path / "demo", "license=none")
    assert not (project / "LICENSE").exists()
    table = pyproject(project)
    assert "license" not in table and "license-files" not in table
    record = yaml.safe_load((project / ".mlscaffold.yaml").read_text())["answers"]
    assert record["license"] == "none"
    assert "copyright_holder" not in record and "copyright_year" not in record
    assert "mlscaffold update --set license=MIT" in (project / "README.md").read_text()


def test_the_default_is_mit_held_by_the_project_authors_this_year(tmp_path: Path) -> None:
    project = generate(tmp_path / "churn-model")
    record = yaml.safe_load((project / ".mlscaffold.yaml").read_text())["answers"]
    year = datetime.datetime.now(datetime.UTC).year
    assert record["license"] == "MIT"
    assert record["copyright_holder"] == "The churn-model authors"
    assert record["copyright_year"] == year
    assert f"Copyright (c) {year} The churn-model authors\n" in (project / "LICENSE").read_text()
    owned = generate(tmp_path / "owned", "owner=  Fraud squad  ")
    assert f"Copyright (c) {year} Fraud squad\n" in (owned / "LICENSE").read_text()


def test_update_reads_the_year_from_the_record_not_the_clock(tmp_path: Path) -> None:
    from mlscaffold import update_project

    project = generate(tmp_path / "demo", "copyright_year=2001", git=True)
    before = (project / "LICENSE").read_bytes()
    result = update_project(repo=project)
    assert not [o for o in result.outcomes if o.path == "LICENSE"]
    assert (project / "LICENSE").read_bytes() == before
    assert b"Copyright (c) 2001 " in before


def test_choosing_a_licence_later_with_update_writes_it(tmp_path: Path) -> None:
    from mlscaffold import update_project

    project = generate(tmp_path / "demo", "license=none", git=True)
    update_project(
        repo=project, sources=AnswerSources(set_values=("license=BSD-3-Clause", "owner=Data team"))
    )
    assert "Copyright (c) " in (project / "LICENSE").read_text()
    assert " Data team\n" in (project / "LICENSE").read_text()
    assert pyproject(project)["license"] == "BSD-3-Clause"


@pytest.mark.parametrize(
    ("value", "named"),
    [("license=GPL-3.0", "answer 'license'"), ("copyright_year=26", "answer 'copyright_year'")],
)
def test_a_bad_licence_answer_is_one_error_line(tmp_path: Path, value: str, named: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "new", "demo", "--defaults", "--no-git", "--set", value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and named in last
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "demo").exists()
