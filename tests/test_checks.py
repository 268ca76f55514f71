"""`tutor check`: a learner's from-scratch implementation against hidden property tests.

The reference passes, correct variants pass, the plan's common bugs fail with the hint that
cites the week's note; the CLI, the API and the progress record the attempt."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.checks.catalog import CHECKS
from app.checks.engine import CheckError
from app.checks.engine import run_checks
from app.checks.hints import cite
from app.checks.report import render_verdict
from app.config import Settings
from evals.check_cases import Case
from evals.check_cases import cases
from evals.check_cases import measure
from tests.conftest import REPO
from tests.conftest import new_learner
from tests.conftest import tutor

CASES = {case.path.name: case for case in cases() if not case.is_reference}
REFERENCE_CASES = {case.check: case for case in cases() if case.is_reference}
# The bugs the issue names (and the autodiff one), each with the property (and so the hint) it must fail.
NAMED_BUGS = [
    "w01_pca_bug_no_centring.py",
    "w13_softmax_bug_no_max.py",
    "w06_adam_bug_no_bias_correction.py",
    "w18_attention_bug_dk.py",
    "w26_sampling_bug_top_p_extra.py",
    "w05_value_bug_assign.py",
]
VARIANTS = ["w01_pca_svd.py", "w06_momentum_lr_inside.py", "w26_sampling_sorted.py"]


@pytest.fixture(scope="module")
def check_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("checks"))


@pytest.fixture(scope="module")
def measured(check_settings: Settings) -> Callable[[Case], dict[str, Any]]:
    """`measure`, each case run once for the module (the case table then reads the same runs)."""
    results: dict[Path, dict[str, Any]] = {}

    def run(case: Case) -> dict[str, Any]:
        if case.path not in results:
            results[case.path] = measure(case, check_settings)
        return results[case.path]

    return run


def test_at_least_twelve_checks_across_the_plans_weeks_each_hint_quoting_its_note() -> None:
    assert len(CHECKS) >= 12 and all(1 <= c.week <= 48 for c in CHECKS)
    assert {1, 2, 3, 5, 6, 18, 26} <= {c.week for c in CHECKS}
    for check in CHECKS:
        for prop in check.properties:
            cited = cite(prop.hint)  # raises if the note lost the sentence
            assert cited["source"].startswith(f"notes/w{prop.hint.week:02d}-")


def test_every_diagnosis_names_its_bug_and_cites_a_sentence_of_the_notes() -> None:
    diagnoses = {d for c in CHECKS for p in c.properties for d in p.diagnoses}
    assert {d.name for d in diagnoses} >= {
        "wrong axis",
        "transposed output",
        "inverted mask",
        "missing scale",
        "extra scale",
        "sample statistics",
        "off-by-one step",
    }
    for diagnosis in diagnoses:
        if diagnosis.hint is not None:
            assert cite(diagnosis.hint)["quote"], diagnosis.name


def test_a_failing_verdict_states_the_interface_and_the_diagnosed_bug(check_settings) -> None:
    code = (REPO / "evals/checks/w18_attention_bug_mask_inverted.py").read_text()
    verdict = run_checks(18, code, check_settings)
    text = render_verdict(verdict)
    assert "True where a query may attend" in text, "the mask's convention is stated"
    assert "True means 'may attend'" in text and "notes/w25-transformer-gpt.md" in text


@pytest.mark.parametrize("check", ["pca", "autodiff", "adam", "attention", "sampling"])
def test_the_reference_passes(check: str, measured) -> None:
    result = measured(REFERENCE_CASES[check])
    assert result["ok"], result["verdict"]


@pytest.mark.parametrize("name", VARIANTS)
def test_a_correct_variant_with_another_approach_passes(name: str, measured) -> None:
    result = measured(CASES[name])
    assert result["ok"], result["failed"]


@pytest.mark.parametrize("name", NAMED_BUGS)
def test_a_common_bug_fails_its_property_with_the_hint_from_the_notes(name: str, measured) -> None:
    result = measured(CASES[name])
    assert result["ok"], result["failed"]
    failure = next(p for p in result["failed"] if CASES[name].expected_failure in p["name"])
    assert failure["example"] and failure["detail"]
    assert failure["hint"]["source"].startswith("notes/w")
    assert "def " not in json.dumps(result["verdict"])  # no reference code leaks


def test_top_p_bug_is_shown_on_a_small_input_and_cites_nucleus_sampling(measured) -> None:
    verdict = measured(CASES["w26_sampling_bug_top_p_extra.py"])["verdict"]
    failed = [p for p in verdict["checks"][0]["properties"] if not p["passed"]]
    assert [p["name"] for p in failed] == ["top-p keeps the smallest set reaching p"]
    assert "smallest set" in failed[0]["hint"]["quote"]
    assert len(failed[0]["example"]) < 120  # shrunk: a handful of probabilities and p


@pytest.mark.slow
def test_every_case_gets_what_its_header_says(measured) -> None:
    wrong = [c.path.name for c in cases() if not measured(c)["ok"]]
    assert wrong == []


def test_a_file_without_the_functions_is_told_the_interface(check_settings) -> None:
    verdict = run_checks(6, "def adam_step(w, g):\n    return w\n", check_settings)
    assert not verdict["passed"] and verdict["checks"] == []
    missing = {m["name"]: m for m in verdict["not_checked"]}
    assert missing["adam"]["missing"] == ["adam"]
    assert "adam(w, g, state, lr, beta1, beta2, eps)" in missing["adam"]["interface"]


def test_a_result_of_the_wrong_form_is_said_once_with_the_interface(check_settings) -> None:
    projection_instead_of_variances = (
        "import numpy as np\n"
        "def pca(X, k):\n"
        "    Xc = X - X.mean(axis=0)\n"
        "    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)\n"
        "    return Vt[:k], Xc @ Vt[:k].T\n"
    )
    [check] = run_checks(1, projection_instead_of_variances, check_settings)["checks"]
    assert not check["passed"] and check["properties"] == []  # no hint about centring
    assert "explained_variance has shape" in check["wrong_interface"]["detail"]
    assert check["wrong_interface"]["interface"].startswith(
        "pca(X, k) -> (components, explained_variance)"
    )


def test_a_file_that_does_not_import_gets_the_error_and_line(check_settings) -> None:
    source = "import numpy as np\ndef pca(X, k)\n    pass\n"
    verdict = run_checks(1, source, check_settings, filename="/home/ada/my_pca.py")
    assert verdict["stopped"]["kind"] == "import"
    assert "SyntaxError" in verdict["stopped"]["message"]
    assert "(my_pca.py, line 2: def pca(X, k))" in verdict["stopped"]["message"]


def test_an_error_in_the_learners_code_names_their_file_and_line(check_settings) -> None:
    source = "import numpy as np\n\ndef pca(X, k):\n    return X[99]\n"
    verdict = run_checks(1, source, check_settings, filename="pca.py")
    detail = verdict["checks"][0]["properties"][0]["detail"]
    assert "IndexError" in detail and "(pca.py, line 4: return X[99])" in detail


@pytest.mark.parametrize(
    ("week", "only", "source", "words"),
    [
        (4, None, "x = 1", "week 4 has no checked"),
        (1, "svd", "x = 1", "no check 'svd'"),
        (1, None, "  \n", "the file is empty"),
    ],
)
def test_requests_that_cannot_be_checked_say_why(week, only, source, words, check_settings) -> None:
    with pytest.raises(CheckError, match=words):
        run_checks(week, source, check_settings, only=only)


def test_cli_gives_a_verdict_and_records_the_attempt(data_dir) -> None:
    bug = REPO / "evals/checks/w01_pca_bug_no_centring.py"
    done = tutor(data_dir, "check", "--week", "1", str(bug), "--json")
    assert done.returncode == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["attempt_id"] and not verdict["passed"]
    assert verdict["checks"][0]["properties"][3]["hint"]["source"] == (
        "notes/w01-linear-algebra.md § Check yourself"
    )
    unchecked = tutor(data_dir, "check", "--week", "4", str(bug))
    assert unchecked.returncode == 2 and "weeks with checks: 1, 2, 3" in unchecked.stderr


def test_the_terminal_verdict_reads_as_pass_fail_with_the_cited_sentence(check_settings) -> None:
    verdict = run_checks(
        1, (REPO / "evals/checks/w01_pca_bug_no_centring.py").read_text(), check_settings
    )
    text = render_verdict(verdict)
    assert "[red]FAIL[/red] [bold]PCA from scratch[/bold]" in text
    assert "smallest failing input:" in text
    assert "hint: Your components are the principal directions of the raw data" in text
    assert "notes/w01-linear-algebra.md § Check yourself" in text


def test_api_checks_code_and_keeps_attempts_in_progress(api_client) -> None:
    base, auth = new_learner(api_client)
    code = (REPO / "evals/checks/w26_sampling_bug_top_p_extra.py").read_text()
    response = api_client.post("/checks/26", json={"code": code}, headers=auth)
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["passed"] is False and verdict["attempt_id"]
    attempts = api_client.get(f"{base}/checks", headers=auth).json()
    assert attempts[0]["week"] == 26 and attempts[0]["passed"] is False
    assert attempts[0]["failed"] == ["sampling: top-p keeps the smallest set reaching p"]
    assert api_client.post("/checks/4", json={"code": "x = 1"}).status_code == 422
    assert api_client.post("/checks/1", json={"code": ""}).status_code == 422
    anonymous = api_client.post(
        "/checks/26", json={"code": (REPO / "evals/checks/w26_sampling_sorted.py").read_text()}
    )
    assert anonymous.json()["passed"] is True and "attempt_id" not in anonymous.json()
    assert {c["week"] for c in api_client.get("/checks").json()} >= {1, 2, 3, 5, 6, 18, 26}


def test_check_help_lists_every_checked_week_and_what_to_define() -> None:
    done = subprocess.run(
        [str(REPO / ".venv/bin/tutor"), "check", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    weeks: dict[int, str] = {}  # each week's line, continuation lines joined to it
    week = 0
    for line in done.stdout.splitlines():
        if match := re.match(r"\s*(\d+) (.*)", line):
            week = int(match.group(1))
        weeks[week] = weeks.get(week, "") + " " + line
    for check in CHECKS:
        for name in check.requires:
            assert re.search(rf"\b{name}\b", weeks.get(check.week, "")), (check.week, name)
