"""Answers: --set and answers files, defaults derived from earlier answers, validation, the interview
with a scripted asker, round-trips through the record's YAML, and feasibility advice."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscaffold.engine.jinja_env import make_environment, render_text
from mlscaffold.engine.names import derived_names
from mlscaffold.errors import AnswerError, Interrupted, TemplateError, UserError
from mlscaffold.wizard.advice import feasibility_warnings, formulation_summary, parse_duration_days
from mlscaffold.wizard.asking import Review, SummaryRow
from mlscaffold.wizard.interview import collect_answers
from mlscaffold.wizard.questions import Choice, Question, load_questions
from mlscaffold.wizard.sources import load_answers_file, parse_set_values
from mlscaffold.yamlio import dumps_yaml, load_mapping, loads_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_YAML = ROOT / "templates" / "template.yaml"
FORMULATION = ROOT / "templates" / "base" / "files" / "docs" / "formulation.md.jinja"
TASKS = ("binary_classification", "multiclass_classification", "regression", "text_classification")
QUESTIONS = load_questions(load_mapping(TEMPLATE_YAML)["questions"], str(TEMPLATE_YAML))


def answers_for(**given: Any) -> dict[str, Any]:
    return collect_answers(QUESTIONS, given=given, interactive=False, env=make_environment())


class ScriptedAsker:
    """Answers from a dict (Enter = the default otherwise); records what was asked, with defaults."""

    def __init__(self, replies: dict[str, Any] | None = None, reviews: Sequence[Review] = ()) -> None:
        self.replies = dict(replies or {})
        self.reviews = list(reviews) or [Review("generate")]
        self.asked: list[tuple[str, Any]] = []
        self.choices: dict[str, tuple[str, ...]] = {}
        self.summaries: list[tuple[list[SummaryRow], list[str]]] = []

    def ask(
        self, question: Question, *, default: Any, choices: tuple[Choice, ...],
        validate: Callable[[Any], str | None],
    ) -> Any:  # fmt: skip
        self.asked.append((question.name, default))
        self.choices[question.name] = tuple(c.value for c in choices)
        reply = self.replies.pop(question.name, default)
        if isinstance(reply, list) and reply and isinstance(reply[0], tuple):  # [(bad, msg), good]
            bad, message = reply[0]
            assert message in (validate(bad) or "")
            reply = reply[1]
        assert validate(reply) is None, (question.name, reply, validate(reply))
        return reply

    def review(self, rows: Sequence[SummaryRow], warnings: Sequence[str]) -> Review:
        self.summaries.append((list(rows), list(warnings)))
        return self.reviews.pop(0)

    def names(self) -> list[str]:
        return [name for name, _ in self.asked]


def interview(asker: ScriptedAsker, **given: Any) -> dict[str, Any]:
    return collect_answers(QUESTIONS, given=given, interactive=True, env=make_environment(), asker=asker)


# --- --set and answers files ---------------------------------------------------------------------


def test_parse_set_values() -> None:
    parsed = parse_set_values(["a=1", "b=x=y", "a=2", "c=", " d =v"])
    assert parsed == {"a": "2", "b": "x=y", "c": "", "d": "v"}


@pytest.mark.parametrize("item", ["novalue", "=x", "two words=1", "a-b=1"])
def test_parse_set_values_refuses_non_keys(item: str) -> None:
    with pytest.raises(UserError, match="--set"):
        parse_set_values([item])


def test_answers_files_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("task_type: regression\nslices: [region]\n")
    (tmp_path / "a.json").write_text(json.dumps({"serving": "online"}))
    (tmp_path / "empty.yml").write_text("")
    assert load_answers_file(tmp_path / "a.yaml") == {"task_type": "regression", "slices": ["region"]}
    assert load_answers_file(tmp_path / "a.json") == {"serving": "online"}
    assert load_answers_file(tmp_path / "empty.yml") == {}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("list.yaml", "- a\n- b\n", "expected a mapping"),
        ("bad.yaml", "a: [1,\n", "not valid YAML"),
        ("bad.json", "{nope}", "not valid JSON"),
        ("keys.yaml", "1: x\n", "answer keys must be text"),
    ],
)
def test_bad_answers_files_name_the_file(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_answers_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_answers_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        load_answers_file(tmp_path / "nope.yaml")


# --- defaults (what --defaults produces) ---------------------------------------------------------------

EXPECTED_DEFAULTS = {
    "binary_classification": ("target", "roc_auc", 0.8, 0.02, "stratified"),
    "multiclass_classification": ("target", "f1_macro", 0.7, 0.02, "stratified"),
    "regression": ("target", "mae", 55.0, 0.05, "random"),
    "text_classification": ("label", "f1_macro", 0.7, 0.02, "stratified"),
}


@pytest.mark.parametrize("task", TASKS)
def test_defaults_follow_the_task_type(task: str) -> None:
    answers = answers_for(task_type=task)
    target, metric, threshold, margin, split = EXPECTED_DEFAULTS[task]
    assert (answers["target"], answers["primary_metric"], answers["ready_threshold"]) == (
        target, metric, threshold
    )  # fmt: skip
    assert (answers["baseline_margin"], answers["split"]) == (margin, split)
    assert answers["data_source"] == "sample" and answers["id_column"] == "id"
    assert answers["stages"] == ["data", "baseline", "evaluate", "deploy", "monitor"]
    assert ("text_column" in answers) == (task == "text_classification")
    assert ("positive_class" in answers) == (task == "binary_classification")
    assert ("cost_fp" in answers) == (task == "binary_classification")


def test_plain_defaults() -> None:
    answers = answers_for()
    assert answers["project_name"] == "churn-predictor"
    assert answers["package_name"] == "churn_predictor"
    assert answers["task_type"] == "binary_classification"
    assert answers["positive_class"] == "malignant"
    assert answers["serving"] == "batch" and "latency_budget_ms" not in answers
    assert "data_path" not in answers and "time_column" not in answers
    assert (answers["psi_warn"], answers["psi_alert"], answers["min_window_rows"]) == (0.1, 0.25, 30)


@pytest.mark.parametrize(
    ("given", "key", "value"),
    [
        ({"primary_metric": "average_precision"}, "ready_threshold", 0.8),
        ({"task_type": "regression", "primary_metric": "r2"}, "ready_threshold", 0.3),
        ({"task_type": "regression", "primary_metric": "rmse"}, "baseline_margin", 0.05),
        ({"task_type": "regression", "data_source": "csv", "data_path": "x.csv"}, "ready_threshold", None),
        ({"data_source": "csv", "data_path": "x.csv"}, "ready_threshold", 0.8),
        ({"data_source": "csv", "data_path": "x.csv"}, "positive_class", None),
        ({"data_source": "csv", "data_path": "x.csv"}, "id_column", None),
        ({"serving": "online"}, "latency_budget_ms", 200),
        ({"retraining": "weekly"}, "max_model_age_days", 21),
        ({"project_name": "Fraud Alerts"}, "package_name", "fraud_alerts"),
    ],
)
def test_defaults_derive_from_earlier_answers(given: dict[str, Any], key: str, value: Any) -> None:
    assert answers_for(**given)[key] == value


def test_set_values_are_read_by_type() -> None:
    answers = answers_for(
        stages="data,baseline", serving="both", latency_budget_ms="150", test_size="0.25",
        slices="region, device", customize_monitoring="yes", ready_threshold="",
    )  # fmt: skip
    assert answers["stages"] == ["data", "baseline"]
    assert answers["latency_budget_ms"] == 150
    assert answers["test_size"] == 0.25
    assert answers["slices"] == ["region", "device"]
    assert answers["customize_monitoring"] is True
    assert answers["ready_threshold"] is None


def test_given_answers_for_irrelevant_questions_are_dropped() -> None:
    assert "latency_budget_ms" not in answers_for(latency_budget_ms="50")
    assert answers_for(latency_budget_ms="50", serving="online")["latency_budget_ms"] == 50
    # a rule for a task whose baseline cannot use one would break the generated project
    text = answers_for(current_solution="rules", heuristic_rule="x > 1", task_type="text_classification")
    assert "heuristic_rule" not in text
    with pytest.raises(AnswerError, match="heuristic_rule"):
        answers_for(current_solution="rules", heuristic_rule="if x is big")


@pytest.mark.parametrize(
    ("given", "key", "message"),
    [
        ({"task_typ": "regression"}, "task_typ", "did you mean 'task_type'"),
        ({"task_type": "regresion"}, "task_type", "did you mean 'regression'"),
        ({"primary_metric": "mae"}, "primary_metric", "'mae' is not one of: roc_auc"),
        ({"task_type": "regression", "primary_metric": "roc_auc"}, "primary_metric", "not one of"),
        ({"data_source": "csv"}, "data_path", "required and has no default; give it with --set data_path="),
        ({"data_source": "sql", "data_path": "sqlite:///x.db"}, "sql_query", "required"),
        ({"split": "time"}, "time_column", "--set time_column=VALUE"),
        ({"split": "group"}, "group_column", "required"),
        ({"ready_threshold": "0.4"}, "ready_threshold", "more than 0.5"),
        ({"ready_threshold": "1.5"}, "ready_threshold", "at most 1"),
        ({"task_type": "regression", "ready_threshold": "-1"}, "ready_threshold", "at least 0"),
        ({"psi_warn": "0.3"}, "psi_alert", "the alert level must be above psi_warn"),
        ({"cost_fp": "0", "cost_fn": "0"}, "cost_fn", "cannot both be 0"),
        ({"test_size": "0"}, "test_size", "more than 0"),
        ({"project_name": "!!!"}, "project_name", "no ASCII letters"),
        ({"package_name": "my-pkg"}, "package_name", "not an ASCII Python identifier"),
        ({"stages": ""}, "stages", "an answer is required"),
        ({"stages": "data,deploi"}, "stages", "did you mean 'deploy'"),
        ({"latency_budget_ms": "fast", "serving": "online"}, "latency_budget_ms", "whole number"),
        ({"split": "stratified", "task_type": "regression"}, "split", "'stratified' is not one of"),
    ],
)
def test_invalid_answers_name_the_key(given: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(AnswerError) as err:
        answers_for(**given)
    assert err.value.key == key
    assert message in str(err.value)
    assert str(err.value).startswith(f"answer '{key}':")


# --- the interview, with a scripted asker ----------------------------------------------------------------


def test_interview_asks_only_what_is_missing_and_relevant() -> None:
    asker = ScriptedAsker({"serving": "online", "latency_budget_ms": "80"})
    answers = interview(asker, project_name="given-name", task_type="regression")
    names = asker.names()
    assert "project_name" not in names and "task_type" not in names
    assert "latency_budget_ms" in names and "positive_class" not in names
    assert "psi_warn" not in names  # relevant, but only asked when customising monitoring
    assert answers["latency_budget_ms"] == 80 and answers["psi_warn"] == 0.1
    assert names.index("serving") < names.index("latency_budget_ms")


def test_interview_offers_defaults_derived_from_earlier_answers() -> None:
    asker = ScriptedAsker({"task_type": "regression", "primary_metric": "rmse"})
    interview(asker)
    offered = dict(asker.asked)
    assert offered["target"] == "target"
    assert offered["primary_metric"] == "mae"
    assert offered["ready_threshold"] == 65.0
    assert offered["baseline_margin"] == 0.05
    assert asker.choices["primary_metric"] == ("mae", "median_ae", "rmse", "r2")
    assert "stratified" not in asker.choices["split"]


def test_interview_validation_message_reaches_the_asker() -> None:
    asker = ScriptedAsker({"test_size": [("0.9", "at most 0.5"), "0.3"]})
    assert interview(asker)["test_size"] == 0.3


def test_summary_shows_every_answer_and_the_advice() -> None:
    asker = ScriptedAsker({"current_solution": "rules"})
    answers = interview(asker)
    rows, warnings = asker.summaries[0]
    assert [row.key for row in rows] == list(answers)
    assert any("ship the heuristic first" in w for w in warnings)


class EditingAsker(ScriptedAsker):
    """At the first summary, asks to edit one answer and gives it a new value."""

    def __init__(self, key: str, value: Any, replies: dict[str, Any]) -> None:
        super().__init__(replies, reviews=[Review("edit", key), Review("generate")])
        self.edit = (key, value)
        self.first_pass = 0

    def review(self, rows: Sequence[SummaryRow], warnings: Sequence[str]) -> Review:
        review = super().review(rows, warnings)
        if review.action == "edit":
            self.first_pass = len(self.asked)
            self.replies[self.edit[0]] = self.edit[1]
        return review


def test_edit_at_the_summary_re_asks_what_depends_on_the_answer() -> None:
    asker = EditingAsker("task_type", "regression", {"owner": "team-a"})
    answers = interview(asker)
    first_pass, second_pass = asker.names()[: asker.first_pass], asker.names()[asker.first_pass :]
    assert "positive_class" in first_pass and "cost_fn" in first_pass
    assert second_pass[0] == "task_type"
    assert {"target", "primary_metric", "ready_threshold", "split", "baseline_margin"} <= set(second_pass)
    assert not {"owner", "product_goal", "serving", "stages"} & set(second_pass)
    assert answers["primary_metric"] == "mae" and answers["ready_threshold"] == 55.0
    assert "positive_class" not in answers and "cost_fp" not in answers
    assert answers["owner"] == "team-a"
    assert list(answers) == [q.name for q in QUESTIONS if q.name in answers]
    assert len(asker.summaries) == 2


def test_edit_offers_the_current_answer_and_enter_keeps_it() -> None:
    asker = ScriptedAsker(
        {"task_type": "regression"}, reviews=[Review("edit", "task_type"), Review("generate")]
    )
    answers = interview(asker)
    edits = [entry for entry in asker.asked if entry[0] == "task_type"]
    assert edits == [("task_type", "binary_classification"), ("task_type", "regression")]
    assert asker.names().count("primary_metric") == 1  # unchanged answer: nothing re-asked
    assert answers["task_type"] == "regression" and answers["primary_metric"] == "mae"


def test_edit_that_makes_a_follow_up_relevant_asks_it() -> None:
    asker = EditingAsker("serving", "online", {"latency_budget_ms": "120"})
    answers = interview(asker)
    assert asker.names()[asker.first_pass :] == ["serving", "latency_budget_ms"]
    assert answers["latency_budget_ms"] == 120


def test_edit_to_the_same_value_changes_nothing_else() -> None:
    asker = ScriptedAsker(reviews=[Review("edit", "serving"), Review("generate")])
    before = answers_for()
    assert interview(asker) == before
    assert asker.names().count("serving") == 2 and asker.names().count("primary_metric") == 1


def test_quit_at_the_summary_is_interrupted() -> None:
    with pytest.raises(Interrupted):
        interview(ScriptedAsker(reviews=[Review("quit")]))


def test_ctrl_c_in_the_asker_propagates() -> None:
    class CtrlC(ScriptedAsker):
        def ask(self, question: Question, **kwargs: Any) -> Any:
            raise Interrupted(f"interrupted at '{question.name}'")

    with pytest.raises(Interrupted, match="project_name"):
        interview(CtrlC())


def test_no_terminal_never_asks() -> None:
    asker = ScriptedAsker()
    collect_answers(QUESTIONS, given={}, interactive=False, env=make_environment(), asker=asker)
    assert asker.asked == []


def test_bad_expressions_in_a_team_template_are_template_errors() -> None:
    questions = load_questions(
        [{"name": "a", "default": "x"}, {"name": "b", "when": "a ==", "default": "y"}], "team.yaml"
    )
    with pytest.raises(TemplateError, match="question 'b'"):
        collect_answers(questions, given={}, interactive=False, env=make_environment())
    questions = load_questions([{"name": "c", "default": "{{ nope }}"}], "team.yaml")
    with pytest.raises(TemplateError, match="question 'c': default"):
        collect_answers(questions, given={}, interactive=False, env=make_environment())


def test_a_choice_question_with_no_applicable_choice_is_a_template_error() -> None:
    questions = load_questions(
        [{"name": "kind", "type": "choice", "choices": [{"value": "a", "when": "false"}]}], "team.yaml"
    )
    with pytest.raises(TemplateError, match="question 'kind': no choice applies"):
        collect_answers(questions, given={}, interactive=False, env=make_environment())


def test_sandbox_applies_to_question_expressions() -> None:
    questions = load_questions([{"name": "c", "default": "{{ ''.__class__.__mro__ }}"}], "team.yaml")
    with pytest.raises(TemplateError, match="question 'c'"):
        collect_answers(questions, given={}, interactive=False, env=make_environment())


# --- round trips through the record ------------------------------------------------------------------------

free_text = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)
    | st.sampled_from(["\n", "\t", "\r\n", "\r", "'", '"', "{{ x }}", "{%", "#", ": ", "- ", "[a]", "= 1",
                       "\\", "\u2028", "'''", '"""', "null", "yes", "0x1F", "~", "&a *a", "!!python"]),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(goal=free_text, owner=free_text, metric=free_text)
def test_free_text_round_trips_through_the_record_exactly(goal: str, owner: str, metric: str) -> None:
    given_answers = {"product_goal": goal, "owner": owner, "product_metric": metric}
    answers = answers_for(**given_answers)
    for key in given_answers:
        expected = given_answers[key] if given_answers[key].strip() else None
        assert answers[key] == expected
    reloaded = loads_yaml(dumps_yaml({"answers": answers}), "record")["answers"]
    assert reloaded == answers
    assert json.loads(json.dumps(answers)) == answers
    assert answers_for(**reloaded) == answers  # the record fed back gives the same answers


def test_every_default_answer_round_trips_through_the_record() -> None:
    for task in TASKS:
        answers = answers_for(task_type=task)
        assert loads_yaml(dumps_yaml(answers), "record") == answers
        assert answers_for(**answers) == answers


# --- feasibility advice -----------------------------------------------------------------------------------


def advice(**given: Any) -> list[str]:
    return feasibility_warnings(answers_for(**{"product_goal": "Help agents answer faster", **given}))


def test_a_complete_formulation_gets_no_advice() -> None:
    assert advice() == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"current_solution": "rules"}, "a 10-line rule may do: ship the heuristic first"),
        ({"data_source": "csv", "data_path": "x.csv", "labelled_rows": "150"}, "collect or label more data"),
        ({"data_source": "csv", "data_path": "x.csv", "labelled_rows": "1000", "positive_rate": "0.05"},
         "collect or label more data first"),
        ({"data_source": "csv", "data_path": "x.csv", "positive_rate": "0.05", "primary_metric": "accuracy",
          "ready_threshold": "0.9"}, "5% positives: use average_precision (PR-AUC), not accuracy"),
        ({"decision_mode": "automate", "cost_fn": "10"}, "consider 'augment'"),
        ({"label_source": "none"}, "No source of labels"),
        ({"product_goal": "Train an XGBoost model on churn"}, "names an algorithm"),
        ({"product_goal": ""}, "No product goal yet"),
        ({"product_goal": "More sales"}, "very short"),
        ({"label_delay": "120 days"}, "monitoring will rely on drift signals"),
        ({"retraining": "quarterly", "max_model_age_days": "30"}, "every model will be reported stale"),
        ({"task_type": "regression", "data_source": "csv", "data_path": "x.csv"}, "No ready threshold"),
    ],
)  # fmt: skip
def test_feasibility_advice(given: dict[str, Any], expected: str) -> None:
    assert any(expected in w for w in advice(**given)), advice(**given)


def test_advice_is_not_blocking() -> None:
    answers = answers_for(label_source="none", current_solution="rules", product_goal="")
    assert len(feasibility_warnings(answers)) == 3
    assert answers["label_source"] == "none"


@pytest.mark.parametrize(
    ("text", "days"),
    [("30 days", 30.0), ("2w", 14.0), ("6 hours", 0.25), ("1 month", 30.0), ("soon", None), (None, None)],
)
def test_parse_duration_days(text: object, days: float | None) -> None:
    assert parse_duration_days(text) == days


# --- the formulation document ------------------------------------------------------------------------------


def render_formulation(answers: dict[str, Any]) -> str:
    slug = derived_names(answers["project_name"])[0]
    context = {
        **answers, "project_slug": slug, "mlscaffold_version": "0.1.0", "template_version": "0.1.0",
        "template_name": "mlscaffold-default", "stages": answers.get("stages", []),
    }  # fmt: skip
    return render_text(make_environment(), FORMULATION.read_text(), context, "formulation.md")


def sections(text: str) -> dict[str, str]:
    parts = text.split("\n## ")
    return {part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in parts[1:]}


@pytest.mark.parametrize("task", TASKS)
def test_formulation_renders_with_defaults_and_no_empty_section(task: str) -> None:
    text = render_formulation(answers_for(task_type=task))
    found = sections(text)
    assert len(found) == 12
    for title, body in found.items():
        assert body.strip(), title
        assert "None" not in body, (title, body)
    assert "{{" not in text and "{%" not in text
    assert "not specified yet" in text
    assert EXPECTED_DEFAULTS[task][1] in found["4. Offline evaluation"]


def test_formulation_uses_the_users_words_and_derived_decisions() -> None:
    answers = answers_for(
        product_goal="Help support agents route tickets | fast\nso that customers wait less",
        task_type="text_classification", serving="online", latency_budget_ms="90",
        slices="language", owner="ml-team", split="group", group_column="customer_id",
    )  # fmt: skip
    text = render_formulation(answers)
    assert "> Help support agents route tickets | fast\n> so that customers wait less" in text
    assert "p95 ≤ 90 ms" in text and "`language`" in text and "`customer_id`" in text
    assert "f1_macro ≥ **0.7**" in text and "TfidfVectorizer" in text
    assert "Owner: ml-team" in text
    rule = render_formulation(answers_for(current_solution="rules", heuristic_rule="worst_radius > 16.8"))
    assert "The rule to beat: `worst_radius > 16.8`" in rule and "the rule `worst_radius > 16.8`" in rule
    assert "The model beats today's rule by 0.02" in rule


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(goal=free_text, entity=free_text, owner=free_text)
def test_formulation_renders_any_free_text(goal: str, entity: str, owner: str) -> None:
    text = render_formulation(answers_for(product_goal=goal, entity=entity, owner=owner))
    assert len(sections(text)) == 12
    row = text.split("|---|---|---|---|---|\n", 1)[1].split("\n", 1)[0]
    assert row.startswith("| ") and row.endswith(" |")
    assert row.replace("\\|", "").count("|") == 6  # five cells on one line, whatever the text
    if goal.strip():
        quoted = text.split("## 1. Value proposition\n\n", 1)[1].split("\n\n- ", 1)[0]
        assert [line[2:] for line in quoted.split("\n")] == goal.splitlines()


def test_formulation_table_cells_escape_pipes_and_newlines() -> None:
    answers = answers_for(entity="a | b\nc", label_delay="2 days")
    row = next(line for line in render_formulation(answers).splitlines() if line.startswith("| a"))
    assert row.startswith("| a \\| b c |") and row.count(" | ") == 4


# --- guesses from the user's CSV ----------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    lines = [",".join(header)] + [
        ",".join(f'"{v}"' if " " in str(v) else str(v) for v in row) for row in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, Path]:
    n = range(60)
    return {
        "binary": write_csv(tmp_path / "b.csv", ["customer_id", "tenure", "churned"],
                            [[f"c{i}", i % 7, "yes" if i % 3 else "no"] for i in n]),
        "multiclass": write_csv(tmp_path / "m.csv", ["id", "x", "y"], [[i, i * 0.5, i % 4] for i in n]),
        "regression": write_csv(tmp_path / "r.csv", ["id", "rooms", "price"],
                                [[i, i % 5, 1000 + i * 37.5] for i in n]),
        "text": write_csv(tmp_path / "t.csv", ["ticket", "body", "label"],
                          [[i, f"my order number {i} has not arrived yet, still waiting", "abc"[i % 3]]
                           for i in n]),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("table", "task", "target", "id_column", "text_column"),
    [
        ("binary", "binary_classification", "churned", "customer_id", None),
        ("multiclass", "multiclass_classification", "y", "id", None),
        ("regression", "regression", "price", "id", None),
        ("text", "text_classification", "label", None, "body"),
    ],
)
def test_a_named_csv_suggests_task_target_and_columns(
    tables: dict[str, Path],
    table: str,
    task: str,
    target: str,
    id_column: str | None,
    text_column: str | None,
) -> None:
    answers = answers_for(data_source="csv", data_path=str(tables[table]))
    assert (answers["task_type"], answers["target"], answers["id_column"]) == (task, target, id_column)
    assert answers.get("text_column") == text_column
    assert not [w for w in data_advice(answers) if "column" in w or "look like" in w]


def test_asked_defaults_come_from_the_csv(tables: dict[str, Path]) -> None:
    asker = ScriptedAsker({"data_source": "csv", "data_path": str(tables["regression"])})
    interview(asker)
    offered = dict(asker.asked)
    assert (offered["task_type"], offered["target"], offered["primary_metric"]) == (
        "regression",
        "price",
        "mae",
    )
    assert offered["ready_threshold"] is None  # error metrics have no universal threshold


def data_advice(answers: dict[str, Any]) -> list[str]:
    return feasibility_warnings(answers, named_paths=[answers["data_path"]])


def test_advice_when_the_csv_disagrees_with_the_answers(tables: dict[str, Path]) -> None:
    path = str(tables["regression"])
    wrong_task = answers_for(data_source="csv", data_path=path, task_type="binary_classification")
    assert any("look like regression, not binary classification" in w for w in data_advice(wrong_task))
    assert not any("look like" in w for w in feasibility_warnings(wrong_task))  # not named: not read
    missing = answers_for(data_source="csv", data_path=path, target="cost", slices="region,rooms")
    assert any(
        "Not a column of" in w and "'cost', 'region' (columns: id, rooms, price)" in w
        for w in data_advice(missing)
    )
    binary = answers_for(data_source="csv", data_path=str(tables["binary"]), positive_class="Yes")
    assert any("'Yes' is not a value of 'churned' (values: no, yes)" in w for w in data_advice(binary))


@pytest.mark.parametrize("path", ["missing.csv", "", "/dev/null"])
def test_unreadable_data_gives_plain_defaults(tmp_path: Path, path: str) -> None:
    answers = answers_for(data_source="csv", data_path=str(tmp_path / path) if path else "x")
    assert (answers["task_type"], answers["target"], answers["id_column"]) == (
        "binary_classification",
        "target",
        None,
    )


def test_templates_cannot_read_files_the_user_did_not_name(tmp_path: Path) -> None:
    """P2: a template's defaults may not point peek_data at a file; only a path the user gave is read."""
    secret = write_csv(tmp_path / "secret.csv", ["CANARY_COLUMN", "x"], [["CANARY_VALUE", 1], ["v", 2]])
    questions = load_questions(
        [
            {"name": "data_source", "default": "csv"},
            {"name": "data_path", "default": str(secret)},
            {"name": "target", "default": "{{ peek_data(data_source, data_path).target or 'none' }}"},
            {"name": "columns", "default": f"{{{{ peek_data('csv', '{secret}').columns | join(',') }}}}",
             "required": False},
        ],
        "team.yaml",
    )  # fmt: skip
    env = make_environment()
    answers = collect_answers(questions, given={}, interactive=False, env=env)
    assert answers["target"] == "none" and answers["columns"] is None
    assert "CANARY" not in " ".join(feasibility_warnings(answers))
    named = collect_answers(questions, given={"data_path": str(secret)}, interactive=False, env=env)
    assert named["target"] == "x"  # the user named the file: guesses are allowed
    interactive = ScriptedAsker({"data_path": str(secret)})
    asked = collect_answers(questions, given={}, interactive=True, env=env, asker=interactive)
    assert asked["target"] == "x"


def test_formulation_summary_restates_the_answers() -> None:
    lines = formulation_summary(answers_for(product_goal="Help agents\nprice homes", entity="house"))
    assert lines == [
        "Goal: Help agents price homes",
        "Predict 'target' (binary classification) for each house, to augment the decision.",
        "Ready when roc_auc reaches 0.8 and beats the dummy and heuristic baselines by 0.02.",
        "Serve batch; monitor drift (PSI 0.1/0.25) and performance; retrain: monthly.",
    ]
    regression = formulation_summary(
        answers_for(task_type="regression", serving="both", retraining="on_alert")
    )
    assert regression[2].startswith("Ready when mae is at most 55 ")
    assert regression[3] == (
        "Serve both within 200 ms (p95); monitor drift (PSI 0.1/0.25) and performance; retrain: on alert."
    )
    assert formulation_summary(answers_for())[0] == "Goal: not specified yet"


def test_team_template_conditions_and_bounds() -> None:
    questions = load_questions(
        [
            {"name": "mode", "type": "choice", "choices": ["fast", "safe"], "default": "safe"},
            {"name": "never", "when": False, "default": "x"},
            {"name": "quiet", "ask_when": "mode == 'fast'", "type": "int", "default": 3},
            {"name": "level", "type": "float", "default": 0.5, "validation": {"max": "'high'"}},
        ],
        "team.yaml",
    )
    asker = ScriptedAsker()
    with pytest.raises(TemplateError, match="question 'level': bound \"'high'\" is not a number"):
        collect_answers(questions, given={}, interactive=True, env=make_environment(), asker=asker)
    assert asker.names() == ["mode", "level"]  # not 'never' (irrelevant) nor 'quiet' (mode is safe)
    answers = collect_answers(questions[:3], given={}, interactive=False, env=make_environment())
    assert answers == {"mode": "safe", "quiet": 3}


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ({"data_source": "sql", "data_path": "warehouse.db", "sql_query": "select 1"}, "not a SQLAlchemy"),
        ({"data_source": "sql", "data_path": "postgresql://ml:s3cret@db/x", "sql_query": "select 1"},
         "holds a password"),
        ({"data_source": "csv", "data_path": "data/raw.csv"}, "relative to its own folder"),
        ({"data_source": "csv", "data_path": "/nowhere/raw.csv"}, "does not exist (yet)"),
    ],
)  # fmt: skip
def test_advice_on_where_the_data_is(location: dict[str, Any], expected: str) -> None:
    answers = answers_for(product_goal="Help analysts find churners early", **location)
    assert any(expected in w for w in feasibility_warnings(answers, named_paths=[location["data_path"]]))


def test_no_location_advice_for_good_locations(tables: dict[str, Path]) -> None:
    for location in (
        {"data_source": "sql", "data_path": "sqlite:///data/raw.db", "sql_query": "select 1"},
        {"data_source": "csv", "data_path": str(tables["binary"])},
        {"data_source": "parquet", "data_path": "https://example.org/x.parquet"},
    ):
        answers = answers_for(product_goal="Help analysts find churners early", **location)
        advice = feasibility_warnings(answers, named_paths=[location["data_path"]])
        assert not [w for w in advice if "URL" in w or "folder" in w or "exist" in w], advice


def test_cookiecutter_habits_work_in_defaults_and_edits() -> None:
    questions = load_questions(
        [
            {"name": "full_name", "default": "Ada"},
            {"name": "email", "default": "{{ cookiecutter.full_name | lower }}@example.org"},
        ],
        "team.yaml",
    )
    assert collect_answers(questions, given={}, interactive=False, env=make_environment())["email"] == (
        "ada@example.org"
    )
    asker = ScriptedAsker(reviews=[Review("edit", "full_name"), Review("generate")])
    original = asker.ask

    def ask(question: Question, **kwargs: Any) -> Any:
        if question.name == "full_name" and asker.summaries:
            asker.replies["full_name"] = "Grace"
        return original(question, **kwargs)

    asker.ask = ask  # type: ignore[method-assign]
    answers = collect_answers(questions, given={}, interactive=True, env=make_environment(), asker=asker)
    assert answers == {"full_name": "Grace", "email": "grace@example.org"}


def test_split_suggestions_from_the_csv(tmp_path: Path) -> None:
    dated = write_csv(
        tmp_path / "dated.csv",
        ["id", "signup_date", "spend", "churned"],
        [[i, f"2024-01-{i % 28 + 1:02d}", i * 3, i % 2] for i in range(60)],
    )
    answers = answers_for(data_source="csv", data_path=str(dated))
    assert (answers["split"], answers["time_column"]) == ("time", "signup_date")
    repeated = write_csv(
        tmp_path / "repeated.csv",
        ["customer_id", "spend", "churned"],
        [[f"c{i % 10}", i * 3, i % 2] for i in range(60)],
    )
    answers = answers_for(data_source="csv", data_path=str(repeated))
    assert (answers["split"], answers["group_column"]) == ("group", "customer_id")
    plain = write_csv(
        tmp_path / "plain.csv", ["id", "spend", "churned"], [[i, i * 3, i % 2] for i in range(60)]
    )
    assert answers_for(data_source="csv", data_path=str(plain))["split"] == "stratified"
