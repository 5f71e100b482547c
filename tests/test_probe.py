"""The feasibility probe (issue 18): each problem it looks for, on data made to show it, with the right fix;
clean data gets no alarm; it reads only the shipped sample or a file the user named (P2); the wizard
offers the fixes at the summary and records the findings in the `feasibility` answer."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import cli_in_process
from test_answers import QUESTIONS, ScriptedAsker, answers_for

from mlscaffold.engine.jinja_env import make_environment
from mlscaffold.wizard import probe as probe_module
from mlscaffold.wizard.advice import feasibility_warnings
from mlscaffold.wizard.asking import Review, SummaryRow
from mlscaffold.wizard.interview import collect_answers
from mlscaffold.wizard.probe import Finding, Prober, data_at_hand, probe_file, read_table

SAMPLES = Path(__file__).resolve().parents[1] / "templates" / "base" / "files" / "data" / "sample"


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def binary_rows(n: int, *, seed: int = 0, positive_share: float = 0.5) -> list[list[Any]]:
    """Two informative numeric features and a noisy label (a simple model gets roc_auc about 0.85)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = int(rng.random() < positive_share)
        a = rng.gauss(1.0 if label else 0.0, 1.0)
        b = rng.gauss(0.5 if label else 0.0, 1.0)
        rows.append([f"c{i:05d}", round(a, 4), round(b, 4), rng.choice(["web", "app", "shop"]), label])
    return rows


HEADER = ["customer_id", "usage", "tenure", "channel", "churn"]


def answers(**given: Any) -> dict[str, Any]:
    base = {
        "data_source": "csv",
        "task_type": "binary_classification",
        "target": "churn",
        "primary_metric": "roc_auc",
        "ready_threshold": 0.7,
        "baseline_margin": 0.05,
        "forbidden_features": [],
        "id_column": "customer_id",
    }
    return {**base, **given}


def keys(report: Any) -> list[str]:
    return [finding.key for finding in report.findings]


def only(report: Any, key: str) -> Finding:
    found = [finding for finding in report.findings if finding.key == key]
    assert len(found) == 1, report.findings
    return found[0]


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "clean.csv", HEADER, binary_rows(2000))


# --- a clean data set ----------------------------------------------------------------------------


def test_clean_data_gets_no_alarm(clean: Path) -> None:
    report = probe_file(answers(), clean)
    assert report.findings == ()
    assert report.dummy == pytest.approx(0.5, abs=0.01)
    assert report.model is not None and 0.75 < report.model[0] < 0.95
    assert report.verdict == "plausible"
    text = report.summary("2026-12-03")
    assert "2026-12-03" in text and report.fingerprint in text and "no feasibility problem found" in text


@pytest.mark.parametrize(
    ("name", "task", "target", "metric", "threshold"),
    [
        ("breast_cancer", "binary_classification", "target", "roc_auc", 0.8),
        ("wine", "multiclass_classification", "target", "f1_macro", 0.7),
        ("diabetes", "regression", "target", "mae", 55.0),
        ("support_tickets", "text_classification", "label", "f1_macro", 0.7),
    ],
)
def test_the_shipped_samples_with_the_default_answers_get_no_alarm(
    name: str, task: str, target: str, metric: str, threshold: float
) -> None:
    sample = next(p for p in SAMPLES.iterdir() if name in p.name)
    given = answers_for(task_type=task)
    assert (given["target"], given["primary_metric"], given["ready_threshold"]) == (target, metric, threshold)
    report = probe_file(given, sample)
    assert report.findings == (), report.findings
    assert report.model is not None and report.dummy is not None


# --- each problem, with its fix ------------------------------------------------------------------


def test_an_unreachable_threshold_is_found_with_what_a_simple_model_gets(clean: Path) -> None:
    report = probe_file(answers(ready_threshold=0.99), clean)
    finding = only(report, "ready_threshold")
    assert "unreachable" in finding.message and report.verdict == "unreachable"
    assert report.model is not None
    assert finding.fix == {"ready_threshold": round(report.model[0], 4)}
    assert probe_file(answers(ready_threshold=finding.fix["ready_threshold"]), clean).findings == ()


def test_a_threshold_in_the_wrong_units_is_called_a_unit_mismatch() -> None:
    sample = next(p for p in SAMPLES.iterdir() if "diabetes" in p.name)
    report = probe_file(answers_for(task_type="regression", ready_threshold="0.99"), sample)
    finding = only(report, "ready_threshold")
    assert "unit mismatch" in finding.message
    assert report.model is not None and report.dummy is not None
    assert finding.fix["ready_threshold"] == pytest.approx(report.model[0], abs=1e-4)
    assert finding.fix["ready_threshold"] < report.dummy


def test_a_threshold_the_dummy_already_meets_is_raised(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "rare.csv", HEADER, binary_rows(3000, positive_share=0.1))
    report = probe_file(answers(primary_metric="accuracy", ready_threshold=0.85), data)
    finding = only(report, "ready_threshold")
    assert "already met by the dummy" in finding.message and report.verdict == "already met by the dummy"
    assert report.dummy is not None and report.dummy > 0.85
    assert finding.fix["ready_threshold"] > report.dummy  # a bar the dummy does not pass


def test_a_leaking_column_is_found_and_forbidden(tmp_path: Path) -> None:
    rows = binary_rows(1500)
    for row in rows:
        row.append("closed" if row[-1] else "open")  # the account status, known only after churning
    data = write_csv(tmp_path / "leak.csv", [*HEADER, "account_status"], [[*r[:4], r[5], r[4]] for r in rows])
    finding = only(probe_file(answers(), data), "forbidden_features")
    assert "account_status" in finding.message
    assert finding.fix == {"forbidden_features": ["account_status"]}
    assert probe_file(answers(forbidden_features=["account_status"]), data).findings == ()


def test_an_id_that_encodes_the_label_is_a_leak(tmp_path: Path) -> None:
    rows = [[f"{'CH' if r[-1] else 'ST'}-{i:05d}", *r[1:]] for i, r in enumerate(binary_rows(1500))]
    data = write_csv(tmp_path / "ids.csv", ["ticket", *HEADER[1:]], rows)
    finding = only(probe_file(answers(id_column=""), data), "forbidden_features")
    assert "ticket" in finding.message and finding.fix == {"forbidden_features": ["ticket"]}


def test_a_numeric_column_that_ranks_the_target_perfectly_is_a_leak(tmp_path: Path) -> None:
    rows = [[*r, round(r[-1] * 100 + random.Random(i).random(), 3)] for i, r in enumerate(binary_rows(800))]
    data = write_csv(tmp_path / "rank.csv", [*HEADER, "refund_amount"], rows)
    assert "refund_amount" in only(probe_file(answers(), data), "forbidden_features").message


def test_columns_named_like_the_outcome_are_suspects(tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = [[*r[:4], rng.choice(["2024-01-01", ""]), r[4]] for r in binary_rows(600)]
    data = write_csv(tmp_path / "named.csv", [*HEADER[:4], "churn_date", "churn"], rows)
    finding = only(probe_file(answers(), data), "forbidden_features")
    assert "named like the outcome" in finding.message and finding.fix == {
        "forbidden_features": ["churn_date"]
    }


def test_a_short_target_name_is_not_found_inside_other_names(tmp_path: Path) -> None:
    rows = [[*r[1:4], r[4]] for r in binary_rows(1500)]
    data = write_csv(tmp_path / "y.csv", ["yearly_usage", "tenure", "channel", "y"], rows)
    assert probe_file(answers(target="y", id_column=""), data).findings == ()


@pytest.mark.parametrize(
    ("task", "metric", "target_values", "fixed"),
    [
        (
            "regression",
            "mae",
            lambda r, i: r[-1],
            {"task_type": "binary_classification", "primary_metric": "roc_auc"},
        ),
        (
            "binary_classification",
            "roc_auc",
            lambda r, i: round(r[1] * 10 + i % 7 / 10, 2),
            {"task_type": "regression", "primary_metric": "mae"},
        ),
        (
            "binary_classification",
            "roc_auc",
            lambda r, i: ["a", "b", "c"][i % 3],
            {"task_type": "multiclass_classification", "primary_metric": "f1_macro"},
        ),
        (
            "regression",
            "mae",
            lambda r, i: ["low", "mid", "high"][i % 3],
            {"task_type": "multiclass_classification", "primary_metric": "f1_macro"},
        ),
    ],
)
def test_a_task_type_that_contradicts_the_target_gets_the_right_one(
    tmp_path: Path, task: str, metric: str, target_values: Any, fixed: dict[str, str]
) -> None:
    rows = [[*r[:4], target_values(r, i)] for i, r in enumerate(binary_rows(600))]
    data = write_csv(tmp_path / "task.csv", HEADER, rows)
    finding = only(
        probe_file(answers(task_type=task, primary_metric=metric, ready_threshold=None), data), "task_type"
    )
    assert finding.fix == fixed
    assert "task_type" not in keys(probe_file(answers(**fixed, ready_threshold=None), data))


def test_too_few_rows_for_the_margin_says_how_many_are_needed(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "small.csv", HEADER, binary_rows(150))
    report = probe_file(answers(baseline_margin=0.02), data)
    finding = only(report, "baseline_margin")
    needed = int(finding.message.split("about ")[-1].split(" rows")[0])
    assert model_score(report) and needed > 150
    # the proposed margin is the interval's half-width on these rows: with it, the rule is quiet
    proposed = finding.fix["baseline_margin"]
    assert 0.02 < proposed < 0.5
    assert "baseline_margin" not in keys(probe_file(answers(baseline_margin=proposed), data))
    # with as many rows as it says, the rule is quiet
    bigger = write_csv(tmp_path / "big.csv", HEADER, binary_rows(needed + 200, seed=1))
    assert "baseline_margin" not in keys(probe_file(answers(baseline_margin=0.02), bigger))


def model_score(report: Any) -> float:
    assert report.model is not None
    return float(report.model[0])


def test_on_the_shipped_sample_the_size_rule_reads_the_rows_the_user_has() -> None:
    sample = next(p for p in SAMPLES.iterdir() if "breast_cancer" in p.name)
    given = answers_for(task_type="binary_classification", baseline_margin="0.01")
    assert "baseline_margin" not in keys(probe_file(given, sample))  # the sample's size says nothing
    finding = only(probe_file({**given, "labelled_rows": 200}, sample), "baseline_margin")
    assert finding.message.startswith("200 labelled rows you have")


def test_a_missing_target_proposes_a_column(clean: Path) -> None:
    finding = only(probe_file(answers(target="churned"), clean), "target")
    assert "'churned' is not in the data" in finding.message and finding.fix == {"target": "churn"}


# --- without pandas and scikit-learn -------------------------------------------------------------


def test_without_the_probe_extra_the_stdlib_part_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "_import_stack", lambda: False)
    rows = [[*r, "closed" if r[-1] else "open"] for r in binary_rows(3000, positive_share=0.1)]
    data = write_csv(tmp_path / "leak.csv", [*HEADER, "account_status"], rows)
    report = probe_file(answers(primary_metric="accuracy", ready_threshold=0.85, baseline_margin=0.1), data)
    assert report.model is None and "pip install 'mlscaffold[probe]'" in report.note
    assert report.dummy == pytest.approx(0.9, abs=0.02)
    assert set(keys(report)) == {"forbidden_features", "ready_threshold"}
    assert "account_status" in only(report, "forbidden_features").message


# --- which data, and how long --------------------------------------------------------------------


def test_only_the_sample_or_a_named_file_is_read(clean: Path) -> None:
    def sample_for(task: str) -> Path:
        return SAMPLES / task

    named = answers(data_path=str(clean))
    assert data_at_hand(named, {str(clean)}, sample_for) == clean
    assert data_at_hand(named, set(), sample_for) is None  # P2: not named, not read
    assert data_at_hand({**named, "data_path": "https://x/y.csv"}, {"https://x/y.csv"}, sample_for) is None
    assert data_at_hand({**named, "data_source": "sql"}, {str(clean)}, sample_for) is None
    assert (
        data_at_hand({"data_source": "sample", "task_type": "regression"}, (), sample_for)
        == SAMPLES / "regression"
    )


def test_a_large_file_is_read_up_to_the_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_module, "MAX_ROWS", 500)
    data = write_csv(tmp_path / "big.csv", HEADER, binary_rows(1200))
    table = read_table(data)
    assert len(table.rows) == 500 and table.sampled
    report = probe_file(answers(), data)
    assert report.rows == 500 and "the first rows of a larger file" in report.summary("d")


def test_a_spent_budget_skips_the_model_and_says_so(clean: Path) -> None:
    report = probe_file(answers(), clean, budget=0.0)
    assert report.model is None and "budget" in report.note


def test_an_unreadable_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    report = probe_file(answers(data_source="parquet"), bad)
    assert "pyarrow" in report.note or report.findings[0].key == "data_path"
    report = probe_file(answers(), tmp_path)  # a folder, not a file
    assert report.findings[0].key == "data_path" and str(tmp_path) in report.findings[0].message


def test_the_prober_runs_once_per_set_of_probed_answers(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = probe_module.probe
    monkeypatch.setattr(probe_module, "probe", lambda *a, **k: calls.append("x") or real(*a, **k))
    prober = Prober(lambda task: None)
    given = answers(data_path=str(clean))
    first = prober(given, {str(clean)})
    assert prober({**given, "owner": "someone"}, {str(clean)}) is first and len(calls) == 1
    prober({**given, "ready_threshold": 0.99}, {str(clean)})
    assert len(calls) == 2
    assert prober({**given, "probe": False}, {str(clean)}) is None and prober.last is None
    assert Prober(lambda task: None, force=True)({**given, "probe": False}, {str(clean)}) is not None


# --- in the wizard -------------------------------------------------------------------------------


class FixingAsker(ScriptedAsker):
    """Accepts the first proposed fix each time the probe has one, then generates."""

    def __init__(self, **replies: Any) -> None:
        super().__init__(replies)
        self.findings: list[list[Finding]] = []

    def review(
        self, rows: Sequence[SummaryRow], warnings: Sequence[str], *, findings: Sequence[Finding] = ()
    ) -> Review:
        self.summaries.append((list(rows), list(warnings)))
        self.findings.append(list(findings))
        fixable = [finding for finding in findings if finding.fix]
        return Review("fix", fixable[0].key, dict(fixable[0].fix)) if fixable else Review("generate")


def test_the_wizard_offers_the_fixes_and_records_the_findings(clean: Path) -> None:
    asker = FixingAsker(
        data_source="csv", data_path=str(clean), task_type="regression", target="churn", ready_threshold=0.5
    )
    prober = Prober(lambda task: None)
    got = collect_answers(
        QUESTIONS, given={}, interactive=True, env=make_environment(), asker=asker, probe=prober
    )
    first = [finding.key for finding in asker.findings[0]]
    assert first[0] == "task_type"  # a 0/1 target asked as regression
    assert got["task_type"] == "binary_classification" and got["primary_metric"] == "roc_auc"
    assert asker.findings[-1] == []  # every fix taken: nothing left
    assert any(w.startswith("Feasibility probe (2000 rows)") for w in asker.summaries[-1][1])
    assert (
        got["feasibility"].startswith("Probed on ") and "no feasibility problem found" in got["feasibility"]
    )


def test_without_a_terminal_the_report_is_recorded(clean: Path) -> None:
    prober = Prober(lambda task: None)
    got = collect_answers(
        QUESTIONS,
        given={
            "data_source": "csv",
            "data_path": str(clean),
            "target": "churn",
            "task_type": "binary_classification",
            "ready_threshold": "0.99",
        },
        interactive=False,
        env=make_environment(),
        probe=prober,
    )
    assert "looks unreachable" in got["feasibility"] and prober.last is not None
    assert got["probe"] is True
    assert not answers_for()["feasibility"]  # no probe: nothing recorded


# --- the goal ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ("Use AI to predict the stock market", "names a technique ('AI')"),
        ("Build a machine learning model for loan defaults", "names a technique"),
        ("A deep learning model for churn", "names an algorithm"),
        ("Predict the price of every house listed tomorrow", "names no user"),
        ("Help support agents route tickets so customers wait less", None),
    ],
)
def test_goals_that_name_a_technique_or_no_user_are_flagged(goal: str, expected: str | None) -> None:
    warnings = feasibility_warnings(answers_for(product_goal=goal))
    goal_warnings = [w for w in warnings if "product goal" in w]
    if expected is None:
        assert goal_warnings == []
    else:
        assert len(goal_warnings) == 1 and expected in goal_warnings[0]


def test_on_a_terminal_enter_accepts_the_first_proposed_fix() -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from mlscaffold.wizard.prompting import QuestionaryAsker

    rows = [SummaryRow("ready_threshold", "Lowest roc_auc?", 0.99)]
    findings = [
        Finding("target", "No fix here."),
        Finding("ready_threshold", "Unreachable.", {"ready_threshold": 0.85}),
    ]
    with create_pipe_input() as pipe:
        asker = QuestionaryAsker(input=pipe, output=DummyOutput())
        pipe.send_text("\r")
        assert asker.review(rows, [], findings=findings) == Review(
            "fix", "ready_threshold", {"ready_threshold": 0.85}
        )
        pipe.send_text("\x1b[B\r")  # one down: generate as it is
        assert asker.review(rows, [], findings=findings) == Review("generate")


# --- from the command line -----------------------------------------------------------------------

UNREACHABLE = "ready_threshold 0.99 looks unreachable"


def cli(tmp_path: Path, *args: str) -> Any:
    """`mlscaffold new` in this process (helpers.cli_in_process): what the probe says and records is the
    subject here, not the process; pandas and scikit-learn are then imported once, not once per test."""
    answers = ("--set", "task_type=regression", "--set", "ready_threshold=0.99")
    return cli_in_process("new", "p", "--defaults", "--no-git", *answers, *args, cwd=tmp_path)


def test_new_warns_and_records_the_findings(tmp_path: Path) -> None:
    done = cli(tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"warning: {UNREACHABLE}" in done.stderr and "unit mismatch" in done.stderr
    formulation = (tmp_path / "p" / "docs" / "formulation.md").read_text()
    section = formulation.split("### Feasibility probe", 1)[1].split("## 12.", 1)[0]
    assert UNREACHABLE in section and "dummy baseline mae: " in section and "data fingerprint `" in section
    record = (tmp_path / "p" / ".mlscaffold.yaml").read_text()
    assert "feasibility:" in record and UNREACHABLE in record.replace("\n    ", " ")


@pytest.mark.parametrize(
    ("args", "probed"),
    [
        (("--dry-run",), False),
        (("--dry-run", "--probe"), True),
        (("--dry-run", "--probe", "--set", "probe=false"), True),
        (("--no-probe",), False),
        (("--set", "probe=false"), False),
    ],
)
def test_the_probe_is_skipped_by_flag_answer_and_dry_run(
    tmp_path: Path, args: tuple[str, ...], probed: bool
) -> None:
    done = cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert (UNREACHABLE in done.stderr) is probed
    if "--dry-run" not in args:
        assert "### Feasibility probe" not in (tmp_path / "p" / "docs" / "formulation.md").read_text()
