"""Questions as data: loading from a manifest, type rules, and the project naming rules."""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mlscaffold.engine.names import RESERVED_NAMES, check_package_name, derived_names
from mlscaffold.errors import AnswerError, TemplateError
from mlscaffold.wizard.questions import Choice, Question, check_static, coerce_value, load_questions
from mlscaffold.yamlio import load_mapping

TEMPLATE_YAML = Path(__file__).resolve().parents[1] / "templates" / "template.yaml"
SPEC_KEYS = [
    "project_name",
    "package_name",
    "product_goal",
    "task_type",
    "target",
    "primary_metric",
    "ready_threshold",
    "baseline_margin",
    "data_source",
    "data_path",
    "serving",
    "latency_budget_ms",
    "stages",
]
EXTRA_KEYS = [
    "positive_class",
    "text_column",
    "id_column",
    "sql_query",
    "split",
    "time_column",
    "group_column",
    "test_size",
    "cost_fp",
    "cost_fn",
    "slices",
    "forbidden_features",
    "psi_warn",
    "psi_alert",
    "drift_share",
    "perf_drop",
    "min_window_rows",
    "max_model_age_days",
    "heuristic_rule",
    "end_user",
    "decision_mode",
    "current_solution",
    "entity",
    "label_delay",
    "label_source",
    "product_metric",
    "guardrails",
    "retraining",
    "alerting",
    "owner",
]


def builtin_questions() -> tuple[Question, ...]:
    return load_questions(load_mapping(TEMPLATE_YAML)["questions"], str(TEMPLATE_YAML))


def one(**fields: Any) -> Question:
    return load_questions([{"name": "q", **fields}], "test.yaml")[0]


# --- the built-in interview ------------------------------------------------------------------


def test_builtin_questions_cover_every_stable_key_once() -> None:
    names = [q.name for q in builtin_questions()]
    assert len(names) == len(set(names))
    missing = set(SPEC_KEYS + EXTRA_KEYS) - set(names)
    assert not missing


def test_every_builtin_question_has_a_prompt_and_a_help_line() -> None:
    for question in builtin_questions():
        assert question.prompt.strip() and question.prompt != question.name, question.name
        assert len(question.help) > 15, question.name


def test_interview_follows_the_issue_order() -> None:
    names = [q.name for q in builtin_questions()]
    # the data source comes before the task type, which is guessed from a named CSV
    order = ["product_goal", "decision_mode", "current_solution", "data_source", "task_type", "target",
             "cost_fp", "primary_metric", "ready_threshold", "slices", "serving",
             "latency_budget_ms", "retraining", "psi_warn", "stages"]  # fmt: skip
    assert [names.index(n) for n in order] == sorted(names.index(n) for n in order)


def test_conditional_questions_are_conditional() -> None:
    by_name = {q.name: q for q in builtin_questions()}
    assert by_name["latency_budget_ms"].when == "serving != 'batch'"
    assert "data_source" in str(by_name["data_path"].when)
    assert "time" in str(by_name["time_column"].when)
    assert "group" in str(by_name["group_column"].when)


# --- loading errors (P14) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"name": "q", "defualt": 1},
            "unknown key 'questions[0].defualt' (did you mean 'questions[0].default'?)",
        ),
        ({"name": "q", "type": "integr"}, "'questions[0].type' must be one of str, int, float, bool, choice"),
        ({"name": "q", "type": "choice"}, "needs a non-empty 'choices' list"),
        ({"name": "q", "type": "choice", "choices": ["a", "b"], "default": "c"}, "default 'c' is invalid"),
        ({"name": "q", "validation": {"patern": "x"}}, "(did you mean 'questions[0].validation.pattern'?)"),
        ({"name": "q", "validation": {"pattern": "("}}, "validation pattern"),
        ({"name": "q", "validation": {"rule": "slug"}}, "'questions[0].validation.rule' must be one of"),
        ({"name": "q", "validation": {"min": [1]}}, "'questions[0].validation.min' must be a number or an"),
        ({"name": "q", "required": "yes"}, "'questions[0].required' must be true or false, got 'yes'"),
        ({"name": "class"}, "must be a Python identifier"),
        ({"name": "two words"}, "must be a Python identifier"),
        ({"name": "q", "choices": ["a"]}, "only for choice and multichoice"),
        ({"name": "q", "type": "choice", "choices": [{"value": "a", "lable": "A"}]}, ".choices[0].label'?)"),
        ({"name": "q", "type": "int", "default": "many"}, "expected a whole number"),
        ("just text", "'questions[0]' must be a mapping with at least a 'name', got 'just text'"),
        ({"prompt": "Name?"}, "'questions[0].name' is missing"),
        ({"name": "q", "when": 3}, "'questions[0].when' must be a Jinja expression or true/false, got 3"),
    ],
)
def test_bad_question_is_a_template_error_naming_it(item: object, expected: str) -> None:
    with pytest.raises(TemplateError) as err:
        load_questions([item], "team/template.yaml")
    assert str(err.value).startswith("team/template.yaml: ") and "questions[0]" in str(err.value)
    assert expected in str(err.value)


def test_duplicate_question_and_non_list_are_refused() -> None:
    with pytest.raises(TemplateError, match="defined twice"):
        load_questions([{"name": "q"}, {"name": "q"}], "t.yaml")
    with pytest.raises(TemplateError, match="must be a list"):
        load_questions({"name": "q"}, "t.yaml")
    assert load_questions(None, "t.yaml") == ()


def test_choices_accept_plain_values_and_mappings() -> None:
    q = one(type="choice", choices=["a", {"value": "b", "label": "Bee", "when": "x == 1"}], default="b")
    assert q.choices == (Choice("a", "a"), Choice("b", "Bee", "x == 1"))


# --- type rules ------------------------------------------------------------------------------------


def coerce(question: Question, value: object) -> Any:
    return coerce_value(question, value, choices=question.choices)


@pytest.mark.parametrize(
    ("qtype", "raw", "value"),
    [
        ("int", "200", 200), ("int", 3.0, 3), ("int", " 1_000 ", 1000),
        ("float", "0.8", 0.8), ("float", 1, 1.0), ("float", "1e-3", 0.001),
        ("bool", "yes", True), ("bool", "N", False), ("bool", True, True), ("bool", "0", False),
        ("str", 42, "42"), ("str", "  keep  spaces ", "  keep  spaces "), ("str", "", None),
        ("list", "a, b,,a", ["a", "b"]), ("list", ["x", " y "], ["x", "y"]), ("list", "", []),
        ("list", None, []),
    ],
)  # fmt: skip
def test_values_are_read_by_type(qtype: str, raw: object, value: object) -> None:
    assert coerce(one(type=qtype), raw) == value


@pytest.mark.parametrize(
    ("qtype", "raw", "message"),
    [
        ("int", "1.5", "expected a whole number"),
        ("int", True, "expected a whole number"),
        ("float", "nan", "finite"),
        ("float", "inf", "finite"),
        ("float", "0,8", "expected a number such as 0.8"),
        ("bool", "maybe", "expected yes or no"),
        ("str", True, "quote it"),
        ("str", "bell\x07", "U+0007"),
        ("str", {"a": 1}, "expected text"),
        ("list", {"a": 1}, "expected a list"),
    ],
)
def test_wrong_values_say_how_to_fix_them(qtype: str, raw: object, message: str) -> None:
    with pytest.raises(AnswerError) as err:
        coerce(one(type=qtype), raw)
    assert err.value.key == "q"
    assert message in str(err.value)


def test_choice_values_are_checked_with_did_you_mean() -> None:
    q = one(type="choice", choices=["batch", "online", "both"])
    assert coerce(q, " online ") == "online"
    with pytest.raises(
        AnswerError, match=r"'onlin' is not one of: batch, online, both \(did you mean 'online'\?\)"
    ):
        coerce(q, "onlin")


def test_multichoice_keeps_the_manifest_order_and_drops_repeats() -> None:
    q = one(type="multichoice", choices=["data", "baseline", "evaluate"])
    assert coerce(q, "evaluate,data,data") == ["data", "evaluate"]
    with pytest.raises(AnswerError, match="'deploy' is not one of"):
        coerce(q, ["data", "deploy"])


def test_static_checks_pattern_and_lengths() -> None:
    q = one(validation={"pattern": "[a-z]+", "max_length": 5, "message": "lowercase letters"})
    check_static(q, "abc")
    with pytest.raises(AnswerError, match="lowercase letters"):
        check_static(q, "ABC")
    with pytest.raises(AnswerError, match="at most 5 characters"):
        check_static(q, "abcdefg")
    lst = one(type="list", validation={"min_length": 1})
    with pytest.raises(AnswerError, match="at least 1 items"):
        check_static(lst, [])


# --- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("churn-predictor", "churn-predictor", "churn_predictor"),
        ("Churn Model 2", "churn-model-2", "churn_model_2"),
        ("  Prédiction  des Ventes!! ", "prediction-des-ventes", "prediction_des_ventes"),
        ("2024 forecast", "2024-forecast", "ml_2024_forecast"),
        ("class", "class", "class_"),
        ("json", "json", "json_"),
        ("a__b--c", "a-b-c", "a_b_c"),
    ],
)
def test_derived_names(name: str, slug: str, package: str) -> None:
    assert derived_names(name) == (slug, package)


@pytest.mark.parametrize("name", ["", "   ", "!!!", "日本語", "pandas", "scikit_learn", "Tests"])
def test_names_that_cannot_make_a_project_are_errors(name: str) -> None:
    with pytest.raises(AnswerError) as err:
        derived_names(name)
    assert err.value.key == "project_name"


@pytest.mark.parametrize("name", ["1abc", "my-pkg", "café", "class", "match", "os", "sklearn", ""])
def test_bad_package_names(name: str) -> None:
    with pytest.raises(AnswerError, match="package_name"):
        check_package_name(name)


SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@given(st.text(max_size=80))
def test_derived_names_are_always_usable_or_an_error(name: str) -> None:
    try:
        slug, package = derived_names(name)
    except AnswerError as err:
        assert err.key == "project_name"
        return
    assert SLUG.fullmatch(slug)
    assert package.isidentifier() and package.isascii()
    assert not keyword.iskeyword(package) and not keyword.issoftkeyword(package)
    assert package not in sys.stdlib_module_names
    check_package_name(package)
    # the names are a fixed point: deriving again from the slug gives the same names
    assert derived_names(slug) == (slug, package)


@given(st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,3}", fullmatch=True))
def test_a_slug_is_its_own_project_name(slug: str) -> None:
    assume(slug.replace("-", "_") not in RESERVED_NAMES)  # e.g. 'pandas'
    assert derived_names(slug)[0] == slug


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=200))
def test_any_printable_text_is_kept_exactly(text: str) -> None:
    q = one(type="str")
    value = coerce(q, text)
    assert value == (None if text.strip() == "" else text)


def test_the_documented_example_behaves_as_documented() -> None:
    from mlscaffold.engine.jinja_env import make_environment
    from mlscaffold.wizard.interview import collect_answers
    from mlscaffold.yamlio import loads_yaml

    doc = (Path(__file__).resolve().parents[1] / "docs" / "questions.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    questions = load_questions(loads_yaml(example, "docs/questions.md")["questions"], "docs/questions.md")

    def answers(**given: str) -> dict[str, Any]:
        return collect_answers(questions, given=given, interactive=False, env=make_environment())

    assert answers(region="us") == {"region": "us", "alert_share": 0.5}
    with pytest.raises(AnswerError, match="answer 'residency_review': required"):
        answers(region="eu")
    with pytest.raises(AnswerError, match="a review ticket looks like DPR-1234"):
        answers(region="eu", residency_review="1234")
    assert answers(region="eu", residency_review="DPR-7")["alert_share"] == 0.3


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_from_their_text(number: float) -> None:
    assert coerce(one(type="float"), repr(number)) == number
    assert coerce(one(type="float"), number) == number


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_ints_read_back_from_their_text(number: int) -> None:
    assert coerce(one(type="int"), str(number)) == number


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8), max_size=6))
def test_lists_from_comma_text_match_lists_given_as_lists(items: list[str]) -> None:
    clean = [i for i in items if "," not in i]
    q = one(type="list")
    assert coerce(q, ",".join(clean)) == coerce(q, clean)
