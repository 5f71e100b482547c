"""The ML Test Score: evidence read from a repo, the 28-test rubric, the report."""

from mlscaffold.score.rubric import TESTS, ItemScore, ScoreReport, format_score, interpret, score_repo

__all__ = ["TESTS", "ItemScore", "ScoreReport", "format_score", "interpret", "score_repo"]
