"""Export scikit-learn's bundled data sets to the CSV samples shipped with generated projects.

Run once by hand with an environment that has scikit-learn and pandas:
    python templates/tools/export_sklearn_samples.py
It writes templates/base/files/data/sample/*.csv; the templates only ship the output.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn import datasets

OUT = Path(__file__).resolve().parents[1] / "base" / "files" / "data" / "sample"
# Only the chosen task's sample is rendered: the file name is empty (skipped) for other task types.
NAMES = {
    "breast_cancer.csv": "binary_classification",
    "wine.csv": "multiclass_classification",
    "diabetes.csv": "regression",
}


def target_path(name: str) -> Path:
    return OUT / ("{% if task_type == '" + NAMES[name] + "' %}" + name + "{% endif %}")


def _clean(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("/", "_").replace("-", "_")


def _frame(bunch: object, target: pd.Series) -> pd.DataFrame:
    features = bunch.frame.drop(columns=["target"])  # type: ignore[attr-defined]
    features.columns = [_clean(c) for c in features.columns]
    frame = features.round(6)
    frame.insert(0, "id", [f"r{i:05d}" for i in range(len(frame))])
    frame["target"] = target.to_numpy()
    return frame


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cancer = datasets.load_breast_cancer(as_frame=True)
    labels = cancer.target.map({0: "malignant", 1: "benign"})
    _frame(cancer, labels).to_csv(target_path("breast_cancer.csv"), index=False)

    wine = datasets.load_wine(as_frame=True)
    labels = wine.target.map({0: "cultivar_a", 1: "cultivar_b", 2: "cultivar_c"})
    _frame(wine, labels).to_csv(target_path("wine.csv"), index=False)

    diabetes = datasets.load_diabetes(as_frame=True, scaled=False)
    _frame(diabetes, diabetes.target).to_csv(target_path("diabetes.csv"), index=False)
    for path in sorted(OUT.glob("*.csv")):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
