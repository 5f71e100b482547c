"""The wizard driven by keystrokes: prompt_toolkit's pipe input into the real questionary prompts.

Keystrokes are built per question from a dry run with a scripted asker (which questions are asked,
with which default and choices), so the tests follow the interview's content, not its exact order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from test_answers import ScriptedAsker, answers_for

from mlscaffold.engine.jinja_env import make_environment
from mlscaffold.errors import Interrupted
from mlscaffold.wizard.asking import Review
from mlscaffold.wizard.interview import collect_answers
from mlscaffold.wizard.prompting import EDIT, GENERATE, QUIT, QuestionaryAsker, display
from mlscaffold.wizard.questions import Question, load_questions
from mlscaffold.yamlio import load_mapping

TEMPLATE_YAML = Path(__file__).resolve().parents[1] / "templates" / "template.yaml"
QUESTIONS = load_questions(load_mapping(TEMPLATE_YAML)["questions"], str(TEMPLATE_YAML))
BY_NAME = {q.name: q for q in QUESTIONS}
DOWN, UP, ENTER, CLEAR, CTRL_C = "\x1b[B", "\x1b[A", "\r", "\x15", "\x03"
SUMMARY_ACTIONS = [GENERATE, EDIT, QUIT]


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def run(pipe: PipeInput, keys: str, **given: Any) -> dict[str, Any]:
    if keys:
        pipe.send_text(keys)
    asker = QuestionaryAsker(input=pipe, output=DummyOutput())
    return collect_answers(QUESTIONS, given=given, interactive=True, env=make_environment(), asker=asker)


def move(options: list[str], start: str | None, target: str) -> str:
    steps = options.index(target) - (options.index(start) if start in options else 0)
    return (DOWN * steps if steps > 0 else UP * -steps) + ENTER


def keys_for(question: Question, default: Any, choices: tuple[str, ...], reply: Any) -> str:
    """The keystrokes that give `reply` at this question's prompt (Enter for the default)."""
    if reply is _DEFAULT:
        return ENTER
    if question.type == "bool":
        return "y" if reply else "n"
    if question.type == "choice":
        return move(list(choices), default, reply)
    if question.type == "multichoice":
        keys = ""
        for index, value in enumerate(choices):
            keys += (DOWN if index else "") + (" " if (value in default) != (value in reply) else "")
        return keys + ENTER
    text = ", ".join(reply) if isinstance(reply, list) else str(reply)
    return CLEAR + text + ENTER


_DEFAULT = object()


def script(replies: dict[str, Any], **given: Any) -> str:
    """Keystrokes for a whole interview: `replies` by question name, Enter everywhere else."""
    dry = ScriptedAsker(dict(replies))
    collect_answers(QUESTIONS, given=given, interactive=True, env=make_environment(), asker=dry)
    keys = ""
    for name, default in dry.asked:
        keys += keys_for(BY_NAME[name], default, dry.choices[name], replies.get(name, _DEFAULT))
    return keys


def test_enter_everywhere_gives_the_same_answers_as_defaults(pipe: PipeInput) -> None:
    keys = script({}) + ENTER  # ... and Generate at the summary
    assert run(pipe, keys) == answers_for()


def test_typed_and_selected_answers(pipe: PipeInput) -> None:
    replies = {
        "project_name": "Ticket Router",
        "product_goal": 'Help agents route "urgent" tickets: faster',
        "task_type": "text_classification",
        "serving": "online",
        "latency_budget_ms": "90",
        "slices": ["language", "channel"],
        "customize_monitoring": True,
        "psi_warn": "0.2",
        "psi_alert": "0.3",
        "stages": ["data", "baseline", "evaluate"],
    }
    answers = run(pipe, script(replies) + ENTER)
    assert answers["project_name"] == "Ticket Router" and answers["package_name"] == "ticket_router"
    assert answers["product_goal"] == 'Help agents route "urgent" tickets: faster'
    assert answers["task_type"] == "text_classification"
    assert (answers["target"], answers["text_column"]) == ("label", "text")
    assert answers["primary_metric"] == "f1_macro"
    assert answers["latency_budget_ms"] == 90
    assert answers["slices"] == ["language", "channel"]
    assert (answers["psi_warn"], answers["psi_alert"]) == (0.2, 0.3)
    assert answers["stages"] == ["data", "baseline", "evaluate"]
    assert "positive_class" not in answers


def test_given_answers_are_not_asked(pipe: PipeInput) -> None:
    given = {"project_name": "given", "task_type": "regression", "serving": "both"}
    keys = script({}, **given) + ENTER
    answers = run(pipe, keys, **given)
    assert answers == answers_for(**given)
    assert answers["latency_budget_ms"] == 200


def test_an_invalid_answer_is_asked_again_with_the_fix(pipe: PipeInput) -> None:
    keys = script({"test_size": "0.3"})
    bad_then_good = CLEAR + "0.9" + ENTER + CLEAR + "0.3" + ENTER
    assert keys.count(CLEAR + "0.3" + ENTER) == 1
    answers = run(pipe, keys.replace(CLEAR + "0.3" + ENTER, bad_then_good) + ENTER)
    assert answers["test_size"] == 0.3


def test_ctrl_c_at_a_prompt_is_interrupted(pipe: PipeInput) -> None:
    with pytest.raises(Interrupted, match="project_name"):
        run(pipe, CTRL_C)


def test_ctrl_c_in_a_select_prompt_is_interrupted(pipe: PipeInput) -> None:
    dry = ScriptedAsker()
    collect_answers(QUESTIONS, given={}, interactive=True, env=make_environment(), asker=dry)
    asked = dry.names()
    first_choice = next(name for name in asked if BY_NAME[name].type == "choice")
    with pytest.raises(Interrupted, match=first_choice):
        run(pipe, ENTER * asked.index(first_choice) + CTRL_C)


def test_end_of_input_is_interrupted_not_a_hang(pipe: PipeInput) -> None:
    pipe.send_text(ENTER * 3)
    pipe.close()
    with pytest.raises(Interrupted):
        run(pipe, "")


def test_quit_at_the_summary(pipe: PipeInput) -> None:
    with pytest.raises(Interrupted, match="summary"):
        run(pipe, script({}) + move(SUMMARY_ACTIONS, GENERATE, QUIT))


def test_edit_an_answer_at_the_summary(pipe: PipeInput) -> None:
    rows = list(answers_for())
    edit = move(SUMMARY_ACTIONS, GENERATE, EDIT) + move(rows, rows[0], "serving")
    serving = BY_NAME["serving"]
    again = keys_for(serving, "batch", serving.choice_values(), "online") + CLEAR + "75" + ENTER
    answers = run(pipe, script({}) + edit + again + ENTER)
    assert answers["serving"] == "online" and answers["latency_budget_ms"] == 75
    assert answers == answers_for(serving="online", latency_budget_ms="75")


def test_display_of_answers_in_the_summary() -> None:
    assert display(None) == "(not specified yet)"
    assert display(True) == "yes"
    assert display([]) == "(none)" and display(["a", "b"]) == "a, b"
    assert display("line one\nline two") == "line one…"
    assert len(display("x" * 200)) == 60


def test_summary_review_returns_the_chosen_action(pipe: PipeInput) -> None:
    from mlscaffold.wizard.interview import SummaryRow

    rows = [SummaryRow("a", "A?", 1), SummaryRow("b", "B?", "x")]
    asker = QuestionaryAsker(input=pipe, output=DummyOutput())
    pipe.send_text(ENTER)
    assert asker.review(rows, ["advice"]) == Review("generate")
    pipe.send_text(DOWN + ENTER + DOWN + ENTER)
    assert asker.review(rows, []) == Review("edit", "b")


def test_the_terminal_shows_intro_help_lines_summary_and_advice(pipe: PipeInput) -> None:
    import io

    from prompt_toolkit.output.plain_text import PlainTextOutput

    screen = io.StringIO()
    pipe.send_text(script({"current_solution": "rules"}) + ENTER)
    asker = QuestionaryAsker(input=pipe, output=PlainTextOutput(screen))
    collect_answers(QUESTIONS, given={}, interactive=True, env=make_environment(), asker=asker)
    shown = screen.getvalue().replace("\r\n", "\n")
    assert shown.count("Ctrl-C stops at any time and writes nothing") == 1
    for question in (BY_NAME["task_type"], BY_NAME["serving"], BY_NAME["stages"]):
        help_at = shown.index(question.help)
        assert shown.index(question.prompt, help_at) > help_at  # each help line sits above its prompt
    assert BY_NAME["latency_budget_ms"].prompt not in shown  # batch serving: no latency question
    summary = shown.split("Your formulation:")[1]
    assert "Predict 'target' (binary classification) for each row" in summary
    assert "  task_type " in summary and "binary_classification" in summary
    assert "ship the heuristic first" in summary.split("Advice (you may go ahead anyway):")[1]
