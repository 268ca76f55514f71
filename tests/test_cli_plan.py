"""`tutor plan`: the week in a terminal or as JSON; a bad week says the valid range."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


@pytest.mark.parametrize("week", [1, 12, 48, 72])
def test_plan_week_prints_the_week(week: int) -> None:
    result = runner.invoke(app, ["plan", "--week", str(week)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert f"Week {week}" in result.output
    assert "Phase" in result.output and "Month" in result.output


def test_plan_week_shows_links_hours_and_next_capstone() -> None:
    result = runner.invoke(app, ["plan", "--week", "1"], env={"COLUMNS": "160"})
    assert "https://mml-book.github.io/" in result.output
    assert "3-4 hours" in result.output
    assert "Next capstone" in result.output and "Q1" in result.output


@pytest.mark.parametrize("week", [1, 12, 48, 72])
def test_plan_week_json_is_the_whole_week(week: int) -> None:
    result = runner.invoke(app, ["plan", "--week", str(week), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["number"] == week
    assert {"phase", "quarter", "month", "week", "next_capstone", "title"} <= data.keys()
    if week <= 48:
        assert data["week"]["number"] == week
    else:
        assert data["week"] is None and data["extended"]["title"] == "Career Transition"


def test_plan_json_for_week_18_has_its_reading() -> None:
    data = json.loads(runner.invoke(app, ["plan", "--week", "18", "--json"]).stdout)
    assert data["week"]["reading"]["url"] == "https://arxiv.org/abs/1706.03762"
    assert data["weeks_to_capstone"] == 6


@pytest.mark.parametrize("week", ["0", "73", "-3"])
def test_plan_rejects_a_week_outside_the_plan(week: str) -> None:
    result = runner.invoke(app, ["plan", "--week", week])
    assert result.exit_code == 2
    assert "valid weeks are 1-72" in result.stderr


def test_plan_without_week_prints_the_month_overview() -> None:
    result = runner.invoke(app, ["plan"], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    assert "Linear Algebra Fundamentals" in result.output
    assert "Q4 capstone" in result.output
    assert "Career Transition" in result.output


def test_every_command_accepts_data_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--week", "3", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0


def test_the_installed_console_script_runs() -> None:
    tutor = Path(sys.executable).parent / "tutor"
    if not tutor.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run(
        [tutor, "plan", "--week", "18", "--json"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["week"]["title"] == "Attention Mechanisms"


def test_a_setting_that_cannot_be_read_is_named_as_the_learner_set_it_not_a_traceback(
    monkeypatch,
) -> None:
    monkeypatch.setenv("TUTOR_ENCODER_PRECISION", "bf16")
    monkeypatch.setenv("TUTOR_CONTEXT_PASSAGES", "99")
    result = runner.invoke(app, ["plan"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "TUTOR_ENCODER_PRECISION='bf16': Input should be 'auto' or 'fp32'" in said
    assert "TUTOR_CONTEXT_PASSAGES='99'" in said and "Traceback" not in said
