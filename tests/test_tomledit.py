"""Format-preserving dependency edits to pyproject.toml, and refusals where the edit cannot be sure."""

from __future__ import annotations

import tomllib

import pytest

from mlscaffold.engine.edits import merge_shared_file
from mlscaffold.engine.tomledit import add_dependencies
from mlscaffold.errors import UserError

PYPROJECT = """[project]
name = "x"  # the name
# the dependencies the platform team pinned
dependencies = ["pandas>=2", "numpy"]

[tool.other]
keep = true
"""


def test_new_requirements_are_added_and_comments_kept() -> None:
    out = add_dependencies(PYPROJECT, ["scipy>=1.10", "Pandas>=3"], ["httpx"])
    data = tomllib.loads(out)
    assert data["project"]["dependencies"] == ["pandas>=2", "numpy", "scipy>=1.10"]
    assert data["project"]["optional-dependencies"]["dev"] == ["httpx"]
    assert "# the dependencies the platform team pinned" in out and "# the name" in out
    assert out.index("[tool.other]") > out.index("dependencies")


def test_nothing_new_returns_the_same_text() -> None:
    assert add_dependencies(PYPROJECT, ["numpy>=2"]) == PYPROJECT


def test_crlf_files_stay_crlf() -> None:
    crlf = PYPROJECT.replace("\n", "\r\n")
    out = add_dependencies(crlf, ["scipy"])
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("project = 5\n", "[project] must be a table"),
        ('[project]\nname = "x"\noptional-dependencies = 3\n', "optional-dependencies"),
        ('[project]\nname = "x"\ndependencies = "pandas"\n', "dependencies must be a list"),
        ('[project]\nname = "x"\n[project.optional-dependencies]\ndev = "x"\n', ".dev must be a list"),
        ("[tool.x]\na = 1\n", "no [project] table"),
        ("[project\n", "not valid TOML"),
    ],
)
def test_shapes_it_cannot_edit_are_errors_naming_the_key(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        add_dependencies(text, ["scipy"], ["httpx"])


def test_dotted_keys_never_lose_requirements() -> None:
    text = 'project.name = "x"\nproject.dependencies = ["a"]\n'
    try:
        out = add_dependencies(text, ["scipy"], ["httpx"])
    except UserError as err:
        assert "by hand" in str(err)
        return
    data = tomllib.loads(out)["project"]
    assert "a" in data["dependencies"] and "scipy" in data["dependencies"]


def test_makefile_and_gitignore_edits_keep_crlf() -> None:
    edited = merge_shared_file("Makefile", b"hello:\r\n\techo hi\r\n", b"PKG := demo\r\nPYTHON ?= python\r\n")
    assert edited is not None
    text = edited.decode()
    assert "PKG ?= demo" in text and "PYTHON ?= python" in text
    assert "\n" not in text.replace("\r\n", "")
