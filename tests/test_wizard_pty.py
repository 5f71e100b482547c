"""The real `mlscaffold new` in a pseudo-terminal (pexpect), prompts found by their text.

Each prompt the CLI shows is recognised by the prompt text of its question in templates/template.yaml,
never by its position, so the tests survive questions being added or reordered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from helpers import cli_in_process
from test_answers import answers_for

from mlscaffold.wizard.questions import Question, load_questions
from mlscaffold.yamlio import load_mapping

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_YAML = ROOT / "templates" / "template.yaml"
QUESTIONS = load_questions(load_mapping(TEMPLATE_YAML)["questions"], str(TEMPLATE_YAML))
DOWN, ENTER, CLEAR, CTRL_C = "\x1b[B", "\r", "\x15", "\x03"
SUMMARY = "What next?"


def prompt_pattern(question: Question) -> str:
    """A regex for the prompt text; Jinja parts of a prompt match anything on the line."""
    parts = re.split(r"\{\{.*?\}\}|\{%.*?%\}", question.prompt)
    return ".*?".join(re.escape(part) for part in parts if part) or re.escape(question.name)


PATTERNS = [prompt_pattern(q) for q in QUESTIONS]


def spawn(dest: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "mlscaffold", "new", str(dest), "--no-git", *args],
        cwd=str(dest.parent),
        encoding="utf-8",
        dimensions=(50, 220),
        timeout=30,
        env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"},
    )


def choose(question: Question, value: str) -> str:
    """Arrow keys from the default the interview offers (with no other answers given) to `value`."""
    values = question.choice_values()
    default = answers_for()[question.name]
    return DOWN * (values.index(value) - values.index(default)) + ENTER


def drive(child: pexpect.spawn, replies: dict[str, str], at_summary: list[str]) -> list[str]:
    """Answer every prompt by its text: `replies` (keystrokes, used once) by question name, else Enter.

    A prompt is answered once; its later re-renders are ignored until another prompt shows.
    Returns the names of the questions seen, in order.
    """
    seen: list[str] = []
    replies = dict(replies)
    summaries = list(at_summary)
    while True:
        index = child.expect([*PATTERNS, re.escape(SUMMARY), pexpect.EOF])
        if index == len(PATTERNS) + 1:
            return seen
        if index == len(PATTERNS):
            if seen and seen[-1] == SUMMARY:
                continue
            seen.append(SUMMARY)
            child.send(summaries.pop(0))
            continue
        name = QUESTIONS[index].name
        if seen and seen[-1] == name:
            continue
        seen.append(name)
        child.send(replies.pop(name, ENTER))


def record(dest: Path) -> dict[str, Any]:
    return load_mapping(dest / ".mlscaffold.yaml")["answers"]


def test_pty_interview_with_an_edit_at_the_summary(tmp_path: Path) -> None:
    dest = tmp_path / "pty-demo"
    by_name = {q.name: q for q in QUESTIONS}
    replies = {
        "project_name": CLEAR + "PTY Demo" + ENTER,
        "product_goal": "Help nurses spot 'urgent' cases: sooner" + ENTER,
        "task_type": choose(by_name["task_type"], "regression"),
        "serving": choose(by_name["serving"], "online"),
        "latency_budget_ms": CLEAR + "120" + ENTER,
    }
    child = spawn(dest)
    # first summary: edit the task type (Enter keeps it), then generate
    rows = list(answers_for(project_name="pty-demo", task_type="regression", serving="online"))
    edit = DOWN + ENTER + DOWN * rows.index("task_type") + ENTER
    seen = drive(child, replies, at_summary=[edit, ENTER])
    child.close()
    assert child.exitstatus == 0, child.before
    assert seen.count(SUMMARY) == 2
    assert {"package_name", "task_type", "latency_budget_ms", "stages"} <= set(seen)
    assert "positive_class" not in seen  # regression: no positive class to ask about
    answers = record(dest)
    # the folder's name is the default project name (if the CLI asks for it, the typed one wins)
    name = "PTY Demo" if "project_name" in seen else "pty-demo"
    assert answers["project_name"] == name and answers["package_name"] == "pty_demo"
    assert answers["product_goal"] == "Help nurses spot 'urgent' cases: sooner"
    assert answers["serving"] == "online" and answers["latency_budget_ms"] == 120
    # the edit re-asked the task type; Enter kept the current answer, so nothing else was re-asked
    assert seen[seen.index(SUMMARY) + 1 :] == ["task_type", SUMMARY]
    assert answers["task_type"] == "regression" and answers["primary_metric"] == "mae"
    assert "Help nurses spot 'urgent' cases: sooner" in (dest / "docs" / "formulation.md").read_text()


def test_pty_ctrl_c_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "never"
    child = spawn(dest)
    seen = drive(child, {"task_type": CTRL_C}, at_summary=[])
    child.close()
    assert seen[-1] == "task_type" and SUMMARY not in seen
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_pty_quit_at_the_summary_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "quitter"
    child = spawn(dest, "--no-probe")  # the probe's import of scikit-learn is the edit test's (above)
    drive(child, {}, at_summary=[DOWN + DOWN + ENTER])
    child.close()
    assert child.exitstatus == 130
    assert not dest.exists()


def test_no_terminal_missing_answer_is_an_error_naming_it_not_a_hang(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "new", str(tmp_path / "x"), "--no-git", "--defaults",
         "--set", "data_source=csv"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: answer 'data_path'")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--defaults", "--set", "task_type=regresion"], "task_type"),
        (["--defaults", "--set", "serving=online", "--set", "latency_budget_ms=soon"], "latency_budget_ms"),
        (["--defaults", "--set", "colour=blue"], "colour"),
    ],
)
def test_bad_answers_exit_2_naming_the_key(tmp_path: Path, args: list[str], key: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "new", str(tmp_path / "x"), "--no-git", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"error: answer '{key}'" in done.stderr


TRICKY = {
    "product_goal": "Help \"ops\" 😀 fix [tool.x] = 1\n'''multi''' \\ line # no comment\n  indented: yes",
    "owner": "team: ml & data <x> {{ not jinja }}",
    "entity": "a | b\u2028c",
    "current_solution": "rules",
    "heuristic_rule": "mean_radius > 15",
}


def test_free_text_round_trips_through_the_generated_files(tmp_path: Path) -> None:
    import tomllib

    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(TRICKY), encoding="utf-8")
    dest = tmp_path / "tricky"
    # no terminal is involved: the command runs in this process (helpers.cli_in_process)
    args = ("new", str(dest), "--no-git", "--defaults", "--answers", str(answers_file))
    done = cli_in_process(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    recorded = record(dest)
    assert {key: recorded[key] for key in TRICKY} == TRICKY
    pyproject = tomllib.loads((dest / "pyproject.toml").read_text(encoding="utf-8"))
    assert "😀" in pyproject["project"]["description"]
    config = load_mapping(dest / "config.yaml")
    assert config["project"]["goal"] == TRICKY["product_goal"]
    formulation = (dest / "docs" / "formulation.md").read_text(encoding="utf-8")
    quoted = "> Help \"ops\" 😀 fix [tool.x] = 1\n> '''multi''' \\ line # no comment\n>   indented: yes"
    assert quoted in formulation
