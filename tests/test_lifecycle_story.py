"""The lifecycle loop of a generated project, for real (issue #16): champion, challenger, promotion,
rollback and retraining on fresh labels, with the service restarted between steps. Slow: minutes.

make all -> promote (version 1 serves; /health says 1) -> a deliberately worse challenger (shuffled
labels) -> evaluate exits 1 naming R7 and the champion is still 1 -> labels sent back with POST
/feedback (the next monitor run counts them) -> `make retrain`: a better challenger on more labels,
promoted by the gate -> /health says its version -> rollback -> 1 again. Version numbers are never
reused, so the rejected challenger keeps number 2 and the promoted one is 3.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from project_env import project_python, project_requirements, run_env, run_make, run_python

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow
PACKAGE = "story"


def module(project: Path, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m story ARGS` in the project, from its source folder."""
    return run_python(project, python, "-m", PACKAGE, *args)


def ok(done: subprocess.CompletedProcess[str], what: str) -> str:
    assert done.returncode == 0, (
        f"{what}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def champion(project: Path, python: Path) -> int | None:
    return versions(project, python)["champion"]  # type: ignore[no-any-return]


def versions(project: Path, python: Path) -> dict[str, Any]:
    done = module(project, python, "versions", "--json")
    ok(done, "versions")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def api_versions(project: Path, python: Path) -> list[int]:
    """The registry versions that answered the service's logged predictions (buffer and parts)."""
    code = (
        "from pathlib import Path; from story.logstore import read_log; "
        "log = read_log(Path('logs')); "
        "print(sorted({int(v) for v in log.loc[log['source'] == 'api', 'version']}))"
    )
    done = run_python(project, python, "-c", code)
    ok(done, "reading the prediction log")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@contextlib.contextmanager
def serving(project: Path, python: Path) -> Iterator[str]:
    """A real uvicorn on 127.0.0.1 (`python -m story serve`), stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", PACKAGE, "serve", "--port", str(port)],
        cwd=project,
        env=run_env(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                if call(f"{base}/health")[0] == 200:
                    break
            assert process.poll() is None, (
                f"serve exited early:\n{process.stderr.read() if process.stderr else ''}"
            )
            assert time.monotonic() < deadline, "the service did not answer /health within 120 s"
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def health_version(project: Path, python: Path) -> int:
    with serving(project, python) as base:
        status, body = call(f"{base}/health")
    assert status == 200 and body["champion"] is True, body
    return int(body["version"])


def shuffle_training_labels(project: Path, python: Path) -> None:
    script = (
        "import numpy as np, pandas as pd\n"
        "path = 'data/processed/train.parquet'\n"
        "frame = pd.read_parquet(path)\n"
        "frame['target'] = np.random.default_rng(0).permutation(frame['target'].to_numpy())\n"
        "frame.to_parquet(path, index=False)\n"
    )
    ok(
        subprocess.run([str(python), "-c", script], cwd=project, capture_output=True, text=True, check=False),
        "shuffle",
    )


def send_back_labels(project: Path, python: Path, rows: int = 40) -> list[str]:
    """Predict serving rows through the live service, then POST their true labels to /feedback."""
    script = (
        "import json, pandas as pd\n"
        f"frame = pd.read_parquet('data/processed/serving.parquet').head({rows})\n"
        "meta = json.load(open('artifacts/model_meta.json'))\n"
        "names = [f['name'] for f in meta['features']]\n"
        "rows = json.loads(frame[names].to_json(orient='records'))\n"
        "print(json.dumps({'rows': rows, 'labels': frame['target'].tolist()}))\n"
    )
    data = json.loads(
        ok(
            subprocess.run(
                [str(python), "-c", script], cwd=project, capture_output=True, text=True, check=False
            ),
            "rows",
        )
    )
    with serving(project, python) as base:
        status, predicted = call(f"{base}/predict", {"rows": data["rows"]})
        assert status == 200, predicted
        ids = [p["id"] for p in predicted["predictions"]]
        for prediction_id, label in zip(ids, data["labels"], strict=True):
            status, answer = call(f"{base}/feedback", {"id": prediction_id, "label": label})
            assert status == 200, answer
        status, refused = call(f"{base}/feedback", {"id": "no-such-id", "label": data["labels"][0]})
        assert status == 404 and "no-such-id" in refused["message"]
    return ids


def monitored_labels(project: Path, python: Path) -> int:
    """Labelled rows in the realised performance of a monitor run over the prediction log."""
    done = module(project, python, "monitor")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads((project / "reports/monitoring/latest.json").read_text(encoding="utf-8"))
    return int(report["performance"]["n_labeled"])


def test_champion_challenger_promotion_rollback_and_retraining(tmp_path: Path) -> None:
    project = new_project(
        dest=tmp_path / PACKAGE,
        sources=AnswerSources(defaults=True, set_values=(f"project_name={PACKAGE}",)),
        git=False,
    ).dest
    python = project_python(project_requirements(project))
    ok(run_make(project, python, "all"), "make all")

    # the first model passed the gate: promote it; version 1 serves
    ok(run_make(project, python, "promote", timeout=300), "make promote")
    assert champion(project, python) == 1
    assert health_version(project, python) == 1

    # a deliberately worse challenger: evaluate exits 1 naming R7; the champion is still 1
    backup = (project / "data/processed/train.parquet").read_bytes()
    shuffle_training_labels(project, python)
    ok(module(project, python, "train"), "train on shuffled labels")
    judged = module(project, python, "evaluate")
    assert judged.returncode == 1, judged.stdout[-3000:]
    report = json.loads((project / "reports/readiness.json").read_text(encoding="utf-8"))
    assert "R7" in report["failed"]
    assert "R7 No regression against the champion" in judged.stdout
    refused = module(project, python, "promote")
    assert refused.returncode == 2 and "version 2 failed the readiness gate" in refused.stderr
    assert champion(project, python) == 1
    assert health_version(project, python) == 1

    # labels come back for served predictions; retrain on the original + labelled recent data
    (project / "data/processed/train.parquet").write_bytes(backup)
    labelled_before = monitored_labels(project, python)
    ids = send_back_labels(project, python)
    feedback = [json.loads(line) for line in (project / "logs/feedback.jsonl").read_text().splitlines()]
    assert [f["id"] for f in feedback] == ids
    assert monitored_labels(project, python) == labelled_before + len(ids)  # POSTed labels count
    retrained = ok(run_make(project, python, "retrain", timeout=900), "make retrain")
    assert "promoted version 3" in retrained
    assert champion(project, python) == 3
    assert health_version(project, python) == 3
    assert api_versions(project, python) == [1]

    # roll back: version 1 serves again, and the history says who, when and why
    ok(run_make(project, python, "rollback", timeout=300), "make rollback")
    assert champion(project, python) == 1
    assert health_version(project, python) == 1
    history = versions(project, python)["history"]
    assert [(e["action"], e["version"]) for e in history] == [("promote", 1), ("promote", 3), ("rollback", 1)]
    assert all(e["by"] and e["at"] and e["reason"] for e in history)
    assert history[1]["reason"].startswith("retrain: gate passed on")
