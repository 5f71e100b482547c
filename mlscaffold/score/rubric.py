"""`mlscaffold score`: the ML Test Score (Breck et al., 2017) judged from a repo and its reports.

28 tests in 4 sections of 7. Each test scores 0 (no evidence), 0.5 (done by hand, with the result
documented: a report a run wrote, a filled document, code that does it) or 1 (automated: a CI
workflow or a schedule runs the step that does it). A section's score is the sum of its tests; the
final score is the weakest section. Monitoring tests count as automated only when a schedule runs
the monitor, because monitoring is about live traffic, not about one CI run on sample data.

Evidence is read from tracked files (code, tests, config, docs, CI workflows, the Makefile) and
from the reports a pipeline run leaves on disk (`reports/readiness.json`,
`reports/monitoring/latest.json`, `reports/skew.json`, `reports/latency.json`, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from mlscaffold.repoview.ci import CiCommand, ci_commands, read_makefile
from mlscaffold.repoview.view import RepoView

SectionName = Literal["data", "model", "infrastructure", "monitoring"]
SECTION_TITLES: dict[SectionName, str] = {
    "data": "Features and data",
    "model": "Model development",
    "infrastructure": "ML infrastructure",
    "monitoring": "Monitoring",
}
SKIPPED = frozenset({"skipped", "skip", "not_applicable", "n/a", "na"})


@dataclass(frozen=True)
class ItemScore:
    """One rubric test: its score, what was found, how it was judged, and what would raise it."""

    id: str
    section: SectionName
    title: str
    score: float
    how: str  # "automated", "documented", "static only (0.5 at most)", "not found"
    evidence: tuple[str, ...]
    to_raise: str


@dataclass(frozen=True)
class SectionScore:
    name: SectionName
    title: str
    total: float
    tests: tuple[ItemScore, ...]


@dataclass(frozen=True)
class ScoreReport:
    path: Path
    sections: tuple[SectionScore, ...]
    final: float
    interpretation: str
    weakest: tuple[SectionName, ...]
    to_raise: tuple[ItemScore, ...]  # the tests that would raise the weakest section, best first


# ---------------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Verdict:
    score: float
    evidence: tuple[str, ...]
    how: str


class Evidence:
    """Everything the judges look at, read once and lazily."""

    def __init__(self, repo: RepoView) -> None:
        self.repo = repo
        self.outputs = _output_dirs(repo)

    # reports a run leaves on disk -----------------------------------------------------------
    def where(self, rel: str) -> str:
        """A default output path (`reports/x.json`) moved to where config.yaml's `paths` put it."""
        for default, actual in self.outputs.items():
            if rel.startswith(default + "/") and actual != default:
                return actual + rel[len(default) :]
        return rel

    def report(self, rel: str) -> Any:
        text = self.repo.read_output(self.where(rel))
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return None

    @cached_property
    def readiness(self) -> list[dict[str, Any]]:
        return _checks(self.report("reports/readiness.json"))

    @cached_property
    def monitoring(self) -> list[dict[str, Any]]:
        return _checks(self.report("reports/monitoring/latest.json"))

    def readiness_check(self, ids: Iterable[str], words: str) -> str | None:
        return _find_check(self.readiness, ids, words, self.where("reports/readiness.json"))

    def monitor_check(self, words: str) -> str | None:
        return _find_check(self.monitoring, (), words, self.where("reports/monitoring/latest.json"))

    def report_file(self, *candidates: str) -> str | None:
        paths = (self.where(c) for c in candidates)
        return next((p for p in paths if self.repo.exists_on_disk(p)), None)

    # tracked code, tests and docs ----------------------------------------------------------
    def grep(self, pattern: str, *, tests: bool = False) -> str | None:
        """`path:line` of the first line of tracked Python code (`tests`: of test code) matching
        `pattern`, in any layout (src/, flat, namespace packages); None when not found."""
        rx = re.compile(pattern)
        for rel in self.python_files:
            if _is_test(rel) is not tests:
                continue
            text = self.repo.read_text(rel)
            if text is None or rx.search(text) is None:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                if rx.search(line):
                    return f"{rel}:{number}"
            return rel  # the match spans lines
        return None

    def tests_grep(self, pattern: str) -> str | None:
        return self.grep(pattern, tests=True)

    @cached_property
    def python_files(self) -> list[str]:
        return [p for p in self.repo.files if p.endswith(".py") and not p.startswith(_NOT_CODE)]

    def tracked(self, *patterns: str) -> str | None:
        found = self.repo.glob_any(patterns)
        return found[0] if found else None

    @cached_property
    def formulation(self) -> str:
        return self.repo.read_text("docs/formulation.md") or ""

    # automation ------------------------------------------------------------------------------
    @cached_property
    def ci(self) -> list[CiCommand]:
        return ci_commands(self.repo)

    @cached_property
    def make_targets(self) -> set[str]:
        """Targets of the Makefile and of the makefiles its recipes run (`$(MAKE) -f other.mk`)."""
        mk = read_makefile(self.repo)
        if mk is None:
            return set()
        return {target for _, target in mk.reach_in(sorted(set(mk.prerequisites) | set(mk.recipes)))}

    @cached_property
    def pipeline(self) -> list[str]:
        """The steps `$(PIPELINE)` lists, in the Makefile or a makefile it runs."""
        mk = read_makefile(self.repo)
        if mk is None:
            return []
        owners = [mk, *(owner for owner, _ in mk.reach_in(sorted(mk.recipes)))]
        return next((o.expand("$(PIPELINE)").split() for o in owners if o.expand("$(PIPELINE)").strip()), [])

    def runs(self, step: str, *, scheduled: bool = False) -> str | None:
        """Which CI command runs `step` (a make target or `python -m PKG step`), if any."""
        word = re.compile(rf"(?:-m\s+\S+|mlscaffold)\s+{re.escape(step)}\b")
        if step == "test":
            word = re.compile(r"\b(?:pytest|tox|nox|unittest)\b")
        for cmd in self.ci:
            if scheduled and not cmd.scheduled:
                continue
            if cmd.via == step or word.search(cmd.text) or _make_call(cmd.text, step):
                start = cmd.root or cmd.text
                kind = "a schedule in" if cmd.scheduled else ""
                return f"{kind} {cmd.workflow} runs `{_short(start)}`".strip() + (
                    f" (reaches `{step}`)" if cmd.via == step and start != f"make {step}" else ""
                )
        return None


_NOT_CODE = ("templates/", "docs/", ".github/")


def _is_test(rel: str) -> bool:
    """A test file: under tests/ or test/, or named test_*.py, *_test.py or conftest.py."""
    name = rel.rsplit("/", 1)[-1]
    parts = rel.split("/")[:-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts)
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


OUTPUT_KEYS = {"reports": "reports", "artifacts": "artifacts", "logs": "logs", "predictions": "predictions"}


def _output_dirs(repo: RepoView) -> dict[str, str]:
    """Output folders from config.yaml's `paths` (and `data.processed_dir`), when they stay inside."""
    from mlscaffold.errors import UserError
    from mlscaffold.yamlio import loads_yaml

    dirs = {name: name for name in OUTPUT_KEYS} | {"data/processed": "data/processed"}
    text = repo.read_text("config.yaml")
    try:
        config = loads_yaml(text, "config.yaml") if text else None
    except UserError:
        return dirs
    if not isinstance(config, dict):
        return dirs
    paths = _section(config, "paths")
    data = _section(config, "data")
    chosen = {**{k: paths.get(k) for k in OUTPUT_KEYS}, "data/processed": data.get("processed_dir")}
    for name, value in chosen.items():
        if isinstance(value, str) and _inside(value):
            dirs[name] = value.strip("/").removeprefix("./")
    return dirs


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key)
    return value if isinstance(value, dict) else {}


def _inside(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return bool(path.strip()) and not path.startswith(("/", "~")) and ".." not in parts and ":" not in path


def _make_call(text: str, step: str) -> bool:
    return re.search(rf"(?:^|\s)(?:make|\$\(MAKE\))\s+(?:[^;&|]*\s)?{re.escape(step)}\b", text) is not None


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 60 else line[:57] + "..."


def _checks(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        return []
    return [c for c in data["checks"] if isinstance(c, dict)]


def _find_check(checks: list[dict[str, Any]], ids: Iterable[str], words: str, where: str) -> str | None:
    """A check that ran (not skipped) whose id is one of `ids` or whose id/name/group matches."""
    rx = re.compile(words, re.IGNORECASE)
    for check in checks:
        status = str(check.get("status", "")).lower()
        if status in SKIPPED:
            continue
        cid = str(check.get("id", ""))
        label = " ".join(str(check.get(k, "")) for k in ("id", "name", "group", "method", "feature"))
        if _id_matches(cid, ids) or rx.search(label):
            name = check.get("name") or check.get("group") or ""
            return f"{where}: check {cid} {name} ({status or 'ran'})".replace("  ", " ")
    return None


def _id_matches(cid: str, ids: Iterable[str]) -> bool:
    """`R5` matches R5, R5a and R5b, but not R50."""
    low = cid.lower()
    for ident in ids:
        head = ident.lower()
        if low == head or (low.startswith(head) and low[len(head)].isalpha()):
            return True
    return False


def grade(found: Iterable[str | None], automated: str | None, cap: float = 1.0) -> Verdict:
    """0 without evidence; 1 when it is also automated (up to `cap`); else 0.5."""
    evidence = tuple(e for e in found if e)
    if not evidence:
        return Verdict(0.0, (), "not found")
    if automated and cap >= 1.0:
        return Verdict(1.0, (*evidence, automated), "automated")
    if cap < 1.0:
        return Verdict(min(0.5, cap), evidence, "static evidence only (0.5 at most)")
    return Verdict(0.5, evidence, "documented (not run by CI or a schedule)")


def monitored(ev: Evidence, found: Iterable[str | None], steps: tuple[str, ...] = ("monitor",)) -> Verdict:
    """Monitoring tests: automated only when a schedule runs the step that checks it."""
    scheduled = next((r for r in (ev.runs(s, scheduled=True) for s in steps) if r), None)
    verdict = grade(found, scheduled)
    if verdict.score == 0.5:
        return Verdict(0.5, verdict.evidence, f"documented (no schedule runs {' or '.join(steps)})")
    return verdict


# ---------------------------------------------------------------------------------- the judges


def _formulation_section(ev: Evidence, heading: str) -> str:
    match = re.search(rf"^#+[^\n]*{heading}[^\n]*\n(.*?)(?=^#|\Z)", ev.formulation, re.M | re.S | re.I)
    return match.group(1) if match else ""


_PLACEHOLDER = re.compile(
    r"\bTODO\b|\bTBD\b|\{\{|<[^>]*>|\?\?\?|not answered|unknown|not (?:specified|chosen|decided)|none named",
    re.I,
)


def _filled(text: str, label: str) -> bool:
    """A line mentioning `label` carries an answer after it (not a placeholder)."""
    for line in text.splitlines():
        match = re.search(rf"{label}[^:]*:\s*(.+)", line, re.I)
        if match and match.group(1).strip(" -_*.;|") and not _PLACEHOLDER.search(match.group(1)):
            return True
    return False


# The field's forms of evidence, as patterns over Python code (the first match is named by file:line).
DATA_VALIDATION = {
    "pandera": r"^\s*(?:import pandera|from pandera\b)|\bDataFrameSchema\(|\bDataFrameModel\b",
    "Great Expectations": (
        r"^\s*(?:import great_expectations|from great_expectations\b)|\bgx\.get_context\(|\bexpect_column_"
    ),
    "pydantic": r"^\s*from pydantic import .*\bBaseModel\b|\bclass \w+\((?:pydantic\.)?BaseModel\)",
}
DATA_TESTS = r"def test_\w*(?:data|schema|missing|null|nan|dtype|duplicate|leak|valid)\w*\("
SEARCHES = {
    "scikit-learn": r"\b(?:GridSearchCV|RandomizedSearchCV|Halving\w*SearchCV|BayesSearchCV)\b",
    "Optuna": r"\boptuna\.create_study\(|^\s*import optuna",
    "Ray Tune": r"^\s*from ray import .*\btune\b|\bray\.tune\b|\btune\.Tuner\(",
    "Hyperopt": r"^\s*from hyperopt import|\bhyperopt\.fmin\(",
}
SLICE_TESTS = r"def test_\w*(?:slice|segment|subgroup|per_group|by_group|cohort)\w*\("
BEHAVIOUR_TESTS = (
    r"def test_\w*(?:invarian|perturb|behavio|directional|minimum_functionality|robust|monoton)\w*\("
)
MONITORING_CODE = {
    "Evidently": r"^\s*(?:import evidently|from evidently\b)",
    "NannyML": r"^\s*(?:import nannyml|from nannyml\b)",
}
PROMETHEUS = r"^\s*(?:import prometheus_client|from prometheus_client\b)"


def _forms(ev: Evidence, forms: dict[str, str], what: str, tests: bool = False) -> list[str]:
    """One line of evidence per form found: `path:line: <form> <what>`."""
    found = []
    for form, pattern in forms.items():
        where = ev.grep(pattern, tests=tests)
        if where:
            found.append(f"{where}: {form} {what}")
    return found


def d1(ev: Evidence) -> Verdict:
    schema = ev.tracked("**/schema.json", "src/**/schema.py", "**/schema.yaml")
    check = ev.readiness_check(["R1"], r"schema|validat")
    libraries = _forms(ev, DATA_VALIDATION, "validates data against a schema")
    libraries += _forms(ev, DATA_VALIDATION, "validates data in a test", tests=True)
    data_test = ev.tests_grep(DATA_TESTS)
    found = [schema, check, *libraries, data_test and f"{data_test}: a pytest test over the data"]
    if schema or check:
        automated = ev.runs("data") or ev.runs("evaluate")
    else:
        automated = ev.runs("test") if data_test or any("in a test" in f for f in libraries) else None
    return grade(found, automated)


def d2(ev: Evidence) -> Verdict:
    report = ev.readiness_check([], r"importance|beneficial|ablation") or ev.report_file(
        "reports/feature_importance.json",
        "reports/figures/feature_importance.png",
        "reports/figures/permutation_importance.png",
    )
    code = None if report else ev.grep(r"permutation_importance")
    if code:
        return grade([f"{code}: computes permutation importance"], None, cap=0.5)
    return grade([report], ev.runs("evaluate"))


def d3(ev: Evidence) -> Verdict:
    section = _formulation_section(ev, "features")
    documented = (
        "docs/formulation.md §Features has a cost column filled" if _table_has_rows(section, "cost") else None
    )
    measured = ev.readiness_check([], r"feature.?cost|transform.?time")
    if measured:
        return grade([measured, documented], ev.runs("evaluate"))
    return grade([documented], None)


def _table_has_rows(section: str, column: str) -> bool:
    rows = [r for r in section.splitlines() if r.strip().startswith("|")]
    if len(rows) < 3 or column.lower() not in rows[0].lower():
        return False
    header = [c.strip().lower() for c in rows[0].strip().strip("|").split("|")]
    idx = next(i for i, c in enumerate(header) if column.lower() in c)
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if idx < len(cells) and cells[idx] and not _PLACEHOLDER.search(cells[idx]):
            return True
    return False


def d4(ev: Evidence) -> Verdict:
    check = ev.readiness_check(["R3"], r"forbidden|deny|meta.?level")
    code = None if check else ev.grep(r"forbidden")
    return grade(
        [check, code and f"{code}: enforces the forbidden-features list"],
        ev.runs("evaluate") if check else None,
    )


def d5(ev: Evidence) -> Verdict:
    attested = (
        "docs/formulation.md states privacy controls"
        if _filled(_formulation_section(ev, "features"), r"(?:privacy|\bpii\b)")
        else None
    )
    scan = ev.readiness_check([], r"\bpii\b|privacy")
    return grade([scan, attested], ev.runs("evaluate") if scan else None)


def d6(ev: Evidence) -> Verdict:
    module = ev.tracked("src/**/features.py", "src/**/features/__init__.py")
    retrain = "one-command retrain: `make train`" if "train" in ev.make_targets else None
    return grade([module and retrain and f"features in {module}", retrain if module else None], None, cap=0.5)


def d7(ev: Evidence) -> Verdict:
    test = ev.tests_grep(
        r"\bfeatures?\b|featuri[sz]|\btransform\w*\(|preprocess|data_prep|\bencod|imput|\bfill_"
    )
    found = [test and f"{test}: tests the feature code"]
    return grade(found, ev.runs("test"))


def m1(ev: Evidence) -> Verdict:
    code = ev.tracked("src/**/models.py", "src/**/model.py", "src/**/train.py", "src/**/stages/baseline.py")
    config = ev.tracked("config.yaml", "config.yml", "params.yaml")
    review = ev.tracked(".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
    found = [code and f"model code tracked in git ({code})", config and f"model config tracked ({config})"]
    if code and review:
        return Verdict(1.0, (*[f for f in found if f], f"reviews required by {review}"), "automated")
    return grade(found, None, cap=0.5)


def m2(ev: Evidence) -> Verdict:
    return monitored(ev, [ev.monitor_check(r"performance_drop|relative_drop|realized|realised")])


def m3(ev: Evidence) -> Verdict:
    found = _forms(ev, SEARCHES, "hyperparameter search")
    return grade(found, (ev.runs("train") or ev.runs("all")) if found else None)


def m4(ev: Evidence) -> Verdict:
    found = ev.report_file("reports/staleness.json") or ev.readiness_check([], r"stale|back.?test")
    return grade([found], ev.runs("evaluate"))


def m5(ev: Evidence) -> Verdict:
    check = ev.readiness_check(["R5", "R6"], r"baseline|simpler")
    return grade([check], ev.runs("evaluate"))


def m6(ev: Evidence) -> Verdict:
    check = ev.readiness_check(["R8"], r"slice")
    test = ev.tests_grep(SLICE_TESTS)
    found = [check, test and f"{test}: a test of quality per slice"]
    return grade(found, ev.runs("evaluate") if check else ev.runs("test") if test else None)


def m7(ev: Evidence) -> Verdict:
    fairness = ev.readiness_check(["R9"], r"fair|inclusion|demographic|equali[sz]ed")
    test = ev.tests_grep(r"fairness|demographic|equali[sz]ed_odds|selection_rate")
    if fairness or test:
        found = [fairness, test and f"{test}: tests fairness across groups"]
        return grade(found, ev.runs("evaluate") if fairness else ev.runs("test"))
    invariance = ev.readiness_check(["R16"], r"invarian|robust|perturb")
    behaviour = ev.tests_grep(BEHAVIOUR_TESTS)
    if invariance or behaviour:  # invariance to small changes: a start, but not inclusion across groups
        shown = tuple(e for e in (invariance, behaviour and f"{behaviour}: a behavioural test") if e)
        return Verdict(0.5, shown, "invariance only, no per-group check (0.5 at most)")
    return Verdict(0.0, (), "not found")


def i1(ev: Evidence) -> Verdict:
    check = ev.readiness_check(["R14"], r"reproduc")
    test = ev.tests_grep(r"reproduc|same_seed|deterministic")
    return grade(
        [check, test and f"{test}: tests reproducibility"], ev.runs("evaluate") if check else ev.runs("test")
    )


def i2(ev: Evidence) -> Verdict:
    test = ev.tests_grep(r"\.fit\(|build_model|make_model|train_model|fit_models|\bmodels\b|overfit")
    return grade([test and f"{test}: a test fits the model code on small data"], ev.runs("test"))


PIPELINE_STEPS = ("data", "train", "evaluate", "deploy", "monitor")


def i3(ev: Evidence) -> Verdict:
    present = [s for s in PIPELINE_STEPS if s in ev.make_targets]
    automated = [s for s in present if ev.runs(s)]
    if present and automated == present:
        return Verdict(1.0, (f"CI runs every pipeline step: {', '.join(present)}",), "automated")
    done = [s for s in present if ev.report_file(*_OUTPUTS.get(s, ()))]
    if present and done == present:
        note = f"CI runs only {', '.join(automated)}" if automated else "no CI runs it"
        return Verdict(0.5, (f"the whole pipeline ran ({', '.join(present)}); {note}",), "documented")
    return Verdict(0.0, (), "not found")


_OUTPUTS: dict[str, tuple[str, ...]] = {
    "data": ("data/processed/train.parquet",),
    "train": ("artifacts/model.joblib",),
    "evaluate": ("reports/readiness.json",),
    "deploy": ("logs/predictions.jsonl", "reports/skew.json"),
    "monitor": ("reports/monitoring/latest.json",),
}


def i4(ev: Evidence) -> Verdict:
    gate = ev.report_file("reports/readiness.json")
    pipeline = ev.pipeline
    gated = "evaluate" in pipeline and (
        "deploy" not in pipeline or pipeline.index("evaluate") < pipeline.index("deploy")
    )
    champion = ev.readiness_check(["R7"], r"champion|deployed model")
    found = [
        "the readiness gate wrote reports/readiness.json" if gate else None,
        "`make all` runs the gate before the deploy step" if gate and gated else None,
        champion and f"{champion}: the challenger is compared with the serving model",
    ]
    return grade(found, ev.runs("evaluate") if gated else None)


def i5(ev: Evidence) -> Verdict:
    explain = ev.grep(r"[\"']explain[\"']\s*:")
    errors = ev.report_file("reports/evaluation.md")
    analysis = None
    if errors and re.search(
        r"error analysis|confident (?:errors|mistakes)|worst|misclassif",
        ev.repo.read_output(errors) or "",
        re.I,
    ):
        analysis = f"{errors} has an error analysis"
    if explain:
        return grade([f"{explain}: an `explain` command", analysis], ev.runs("test"))
    return grade([analysis], None, cap=0.5)


def i6(ev: Evidence) -> Verdict:
    smoke = ev.report_file("reports/skew.json", "reports/latency.json")
    health = ev.grep(r"/health")
    container = ev.tracked("Dockerfile", "**/Dockerfile", "**/*.Dockerfile", "Containerfile")
    return grade(
        [
            smoke and f"the deploy step loads the artefact and predicts ({smoke})",
            health and f"{health}: serves /health",
            container and f"{container}: a container image of the service",
        ],
        None,
        cap=0.5,
    )


def i7(ev: Evidence) -> Verdict:
    command = ev.grep(r"[\"']rollback[\"']\s*:|def rollback")
    test = ev.tests_grep(r"rollback") if command else None
    return grade([command and f"{command}: a rollback command", test], ev.runs("test") if test else None)


def mo1(ev: Evidence) -> Verdict:
    bot = ev.tracked(
        ".github/dependabot.yml",
        ".github/dependabot.yaml",
        "renovate.json",
        ".github/renovate.json",
        ".renovaterc",
        ".renovaterc.json",
    )
    lock = ev.tracked("*.lock", "requirements*.txt", "uv.lock", "poetry.lock", "pylock*.toml")
    if bot:
        return Verdict(1.0, tuple(e for e in (f"{bot} raises dependency updates", lock) if e), "automated")
    owners = "docs/formulation.md names upstream data owners" if _filled(ev.formulation, "owners") else None
    return grade([lock and f"dependencies pinned in {lock}", owners], None, cap=0.5)


def mo2(ev: Evidence) -> Verdict:
    check = ev.monitor_check(r"missing|range|schema|unseen|categor|quality|invariant")
    return monitored(ev, [check, *_forms(ev, MONITORING_CODE, "checks serving data against the reference")])


def mo3(ev: Evidence) -> Verdict:
    return monitored(
        ev, [ev.monitor_check(r"skew"), ev.report_file("reports/skew.json")], ("monitor", "deploy")
    )


def mo4(ev: Evidence) -> Verdict:
    return monitored(ev, [ev.monitor_check(r"age|stale|fresh")])


def mo5(ev: Evidence) -> Verdict:
    found = ev.monitor_check(r"nan|\binf\b|finite") or ev.readiness_check(["R13"], r"numerical")
    return monitored(ev, [found], ("monitor", "evaluate"))


def mo6(ev: Evidence) -> Verdict:
    found = [ev.monitor_check(r"latency|throughput"), ev.report_file("reports/latency.json")]
    prometheus = ev.grep(PROMETHEUS)
    found.append(prometheus and f"{prometheus}: Prometheus metrics from the service")
    return monitored(ev, found, ("monitor", "deploy"))


def mo7(ev: Evidence) -> Verdict:
    check = ev.monitor_check(r"perf|bias|realized|realised|estimated|cbpe|dle")
    quality = ev.grep(r"\b(?:CBPE|DLE|PerformanceCalculator)\(|ClassificationPreset|RegressionPreset")
    return monitored(ev, [check, quality and f"{quality}: tracks prediction quality"])


@dataclass(frozen=True)
class RubricTest:
    id: str
    section: SectionName
    title: str
    judge: Callable[[Evidence], Verdict]
    to_raise: str


TESTS: tuple[RubricTest, ...] = (
    RubricTest(
        "D1",
        "data",
        "Feature expectations are captured in a schema",
        d1,
        "keep a schema for every input column and validate data against it in a CI-run step",
    ),
    RubricTest(
        "D2",
        "data",
        "All features are beneficial",
        d2,
        "report permutation importance per feature (with a confidence interval) in evaluate",
    ),
    RubricTest(
        "D3",
        "data",
        "No feature's cost is too much",
        d3,
        "fill the cost column of docs/formulation.md §Features, or measure per-feature cost",
    ),
    RubricTest(
        "D4",
        "data",
        "Features adhere to meta-level requirements",
        d4,
        "list forbidden features in config.yaml and check them in the readiness gate",
    ),
    RubricTest(
        "D5",
        "data",
        "The data pipeline has appropriate privacy controls",
        d5,
        "state the privacy controls in docs/formulation.md §Features and scan for PII columns",
    ),
    RubricTest(
        "D6",
        "data",
        "New features can be added quickly",
        d6,
        "keep feature code in one module and retraining to one command (`make train`)",
    ),
    RubricTest(
        "D7",
        "data",
        "All input feature code is tested",
        d7,
        "add tests for the feature module and run them in CI (`make test`)",
    ),
    RubricTest(
        "M1",
        "model",
        "Model specs are reviewed and submitted",
        m1,
        "track model code and config in git and require reviews (.github/CODEOWNERS)",
    ),
    RubricTest(
        "M2",
        "model",
        "Offline and online metrics correlate",
        m2,
        "compare realised online metrics with the offline reference in a scheduled monitor",
    ),
    RubricTest(
        "M3",
        "model",
        "All hyperparameters have been tuned",
        m3,
        "tune hyperparameters with a search (GridSearchCV, RandomizedSearchCV) in `make train`",
    ),
    RubricTest(
        "M4",
        "model",
        "The impact of model staleness is known",
        m4,
        "back-test: train on older windows, test on the newest, write reports/staleness.json",
    ),
    RubricTest(
        "M5",
        "model",
        "A simpler model is not better",
        m5,
        "compare the model with dummy and heuristic baselines in the readiness gate",
    ),
    RubricTest(
        "M6",
        "model",
        "Model quality is sufficient on important data slices",
        m6,
        "set evaluate.slices in config.yaml so the gate checks quality per slice",
    ),
    RubricTest(
        "M7",
        "model",
        "The model is tested for considerations of inclusion",
        m7,
        "add a fairness check per sensitive attribute (selection rate, equalised odds by group)",
    ),
    RubricTest(
        "I1",
        "infrastructure",
        "Training is reproducible",
        i1,
        "retrain with the same seed in the gate (or a test) and compare the metric",
    ),
    RubricTest(
        "I2",
        "infrastructure",
        "Model specs are unit tested",
        i2,
        "add tests that fit the model code on a few rows and check outputs, run in CI",
    ),
    RubricTest(
        "I3",
        "infrastructure",
        "The ML pipeline is integration tested",
        i3,
        "run the whole pipeline on sample data in CI (`make all`)",
    ),
    RubricTest(
        "I4",
        "infrastructure",
        "Model quality is validated before attempting to serve it",
        i4,
        "run the readiness gate in CI before the deploy step",
    ),
    RubricTest(
        "I5",
        "infrastructure",
        "The model allows debugging by observing step-by-step computation",
        i5,
        "add an `explain` command (transformed features and contributions for one row), tested",
    ),
    RubricTest(
        "I6",
        "infrastructure",
        "Models are canaried before serving",
        i6,
        "smoke-load and score with the new artefact in a canary or shadow deployment",
    ),
    RubricTest(
        "I7",
        "infrastructure",
        "Serving models can be rolled back",
        i7,
        "keep versioned models with `promote`/`rollback` commands and a rollback test",
    ),
    RubricTest(
        "Mo1",
        "monitoring",
        "Dependency changes result in notification",
        mo1,
        "add .github/dependabot.yml (or Renovate) and pin dependencies",
    ),
    RubricTest(
        "Mo2",
        "monitoring",
        "Data invariants hold in training and serving inputs",
        mo2,
        "run the monitor's data-quality checks on a schedule (a cron workflow)",
    ),
    RubricTest(
        "Mo3",
        "monitoring",
        "Training and serving features compute the same values",
        mo3,
        "recompute features for logged inputs in a scheduled monitor (skew check)",
    ),
    RubricTest(
        "Mo4",
        "monitoring",
        "Models are not too stale",
        mo4,
        "check model age against max_model_age_days in a scheduled monitor",
    ),
    RubricTest(
        "Mo5",
        "monitoring",
        "The model is numerically stable",
        mo5,
        "check predictions for NaN/inf in a scheduled monitor",
    ),
    RubricTest(
        "Mo6",
        "monitoring",
        "The model has not had regressions in speed or serving cost",
        mo6,
        "track serving latency per model version in a scheduled monitor",
    ),
    RubricTest(
        "Mo7",
        "monitoring",
        "The model has not had regressions in prediction quality",
        mo7,
        "track realised or estimated performance and prediction bias in a scheduled monitor",
    ),
)

INTERPRETATION: tuple[tuple[float, str], ...] = (
    (0.0, "a research project rather than a production system"),
    (1.0, "not untested, but serious reliability gaps are likely"),
    (2.0, "a first pass at productionisation; more investment is needed"),
    (3.0, "reasonably tested; more of the tests and procedures could be automated"),
    (5.0, "strong automated testing and monitoring, fit for mission-critical use"),
    (float("inf"), "exceptional automated testing and monitoring"),
)


def interpret(final: float) -> str:
    """Table V of the paper: what a final score means (paraphrased)."""
    for bound, text in INTERPRETATION:
        if final <= bound:
            return text
    return INTERPRETATION[-1][1]


def score_repo(*, repo: Path = Path("."), worktree: bool = False) -> ScoreReport:
    """Score the repo at `repo` on the 28 tests. Reads only; never runs the project. Code, tests, docs
    and CI are read from what git tracks (`worktree`: from the disk), like `check`; the reports a
    pipeline run left are read from the disk."""
    root = repo.resolve()
    ev = Evidence(RepoView(root, worktree=worktree))
    results = [_judge(test, ev) for test in TESTS]
    sections = tuple(
        SectionScore(
            name,
            title,
            sum(r.score for r in results if r.section == name),
            tuple(r for r in results if r.section == name),
        )
        for name, title in SECTION_TITLES.items()
    )
    final = min(s.total for s in sections)
    weakest = tuple(s.name for s in sections if s.total == final)
    return ScoreReport(root, sections, final, interpret(final), weakest, _to_raise(sections, weakest))


def _to_raise(sections: tuple[SectionScore, ...], weakest: tuple[SectionName, ...]) -> tuple[ItemScore, ...]:
    """Up to 3 tests, lowest scores first, taken in turn from each weakest section."""
    queues = [
        sorted((t for t in s.tests if t.score < 1.0), key=lambda t: (t.score, TESTS_ORDER[t.id]))
        for s in sections
        if s.name in weakest
    ]
    picked: list[ItemScore] = []
    while len(picked) < 3 and any(queues):
        for queue in queues:
            if queue and len(picked) < 3:
                picked.append(queue.pop(0))
    return tuple(picked)


TESTS_ORDER = {t.id: i for i, t in enumerate(TESTS)}


def _judge(test: RubricTest, ev: Evidence) -> ItemScore:
    verdict = test.judge(ev)
    hint = "" if verdict.score >= 1.0 else test.to_raise
    return ItemScore(test.id, test.section, test.title, verdict.score, verdict.how, verdict.evidence, hint)


# ---------------------------------------------------------------------------------- output


def format_score(report: ScoreReport, fmt: Literal["text", "json"]) -> str:
    """The report as text or JSON (SARIF too for check), without a final newline."""
    if fmt == "json":
        return json.dumps(_as_json(report), indent=2)
    if fmt == "text":
        return _as_text(report)
    raise ValueError(f"unknown format {fmt!r}")


def _num(x: float) -> str:
    return f"{x:g}"


def _as_text(report: ScoreReport) -> str:
    lines = [f"ML Test Score for {report.path}", ""]
    for section in report.sections:
        lines.append(f"{section.title} ({section.name}): {_num(section.total)} / 7")
        for t in section.tests:
            lines.append(f"  {t.id:<4} {_num(t.score):>3}  {t.title}  [{t.how}]")
            for e in t.evidence:
                lines.append(f"            - {e}")
        lines.append("")
    weakest = ", ".join(report.weakest)
    lines.append(f"Final score: {_num(report.final)} (the weakest section: {weakest})")
    lines.append(f"Meaning: {report.interpretation}.")
    if report.to_raise:
        lines.append("To raise the weakest section:")
        lines.extend(f"  {t.id} ({_num(t.score)}): {t.to_raise}" for t in report.to_raise)
    return "\n".join(lines)


def _as_json(report: ScoreReport) -> dict[str, Any]:
    def test(t: ItemScore) -> dict[str, Any]:
        return {
            "id": t.id,
            "title": t.title,
            "score": t.score,
            "how": t.how,
            "evidence": list(t.evidence),
            "to_raise": t.to_raise,
        }

    return {
        "path": str(report.path),
        "final": report.final,
        "interpretation": report.interpretation,
        "weakest": list(report.weakest),
        "sections": [
            {"name": s.name, "title": s.title, "total": s.total, "tests": [test(t) for t in s.tests]}
            for s in report.sections
        ],
        "to_raise": [{"id": t.id, "score": t.score, "action": t.to_raise} for t in report.to_raise],
    }
