"""The curriculum file is the whole learning plan, validated; malformed files say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.course.curriculum import DEFAULT_PATH
from app.course.curriculum import CurriculumError
from app.course.curriculum import WeekOutOfRange
from app.course.curriculum import load_curriculum


@pytest.fixture(scope="module")
def curriculum():
    return load_curriculum()


def test_every_week_1_to_48_is_present_with_its_assignment(curriculum) -> None:
    weeks = curriculum.weeks()
    assert [w.number for w in weeks] == list(range(1, 49))
    # Week 12 is capstone preparation: the plan gives project planning and setup instead.
    assert [w.number for w in weeks if w.assignment is None] == [12]
    assert curriculum.week(12).week.project_planning is not None


def test_study_weeks_have_reading_videos_or_course(curriculum) -> None:
    without = [w.number for w in curriculum.weeks() if not (w.reading or w.videos or w.course)]
    # Exactly the plan's review, planning and practice-only weeks.
    assert without == [12, 20, 36, 44, 45, 46, 47, 48]
    for number in without:
        week = curriculum.week(number).week
        assert week.review or week.practice or week.research or week.planning


def test_week_18_reads_attention_is_all_you_need(curriculum) -> None:
    reading = curriculum.week(18).week.reading
    assert reading.title == "Attention Is All You Need"
    assert str(reading.url) == "https://arxiv.org/abs/1706.03762"


def test_week_1_matches_the_plan_line_by_line(curriculum) -> None:
    week = curriculum.week(1).week
    assert week.title == "Linear Algebra Fundamentals"
    assert str(week.reading.url) == "https://mml-book.github.io/"
    assert (week.videos.hours, week.videos.hours_max) == (3, 4)
    assert week.videos.hours_label == "3-4 hours"
    assert week.practice.hours == 2
    assert "PCA from scratch" in week.assignment.text


def test_lines_with_two_links_keep_both(curriculum) -> None:
    reading = curriculum.week(23).week.reading
    assert [str(reading.url), *(str(link.url) for link in reading.also)] == [
        "https://arxiv.org/abs/1810.04805",
        "https://huggingface.co/blog/bert-101",
    ]


def test_capstones_follow_weeks_12_24_36_48(curriculum) -> None:
    assert [(c.quarter, c.after_week) for c in curriculum.capstones] == [
        (1, 12),
        (2, 24),
        (3, 36),
        (4, 48),
    ]
    q1 = curriculum.capstones[0]
    assert q1.options and q1.deliverables and q1.focus


def test_week_context_names_phase_month_quarter_and_next_capstone(curriculum) -> None:
    plan = curriculum.week(18)
    assert (plan.phase.number, plan.month.number, plan.quarter.number) == (2, 5, 2)
    assert plan.next_capstone.after_week == 24
    assert plan.weeks_to_capstone == 6
    assert curriculum.week(12).weeks_to_capstone == 0


@pytest.mark.parametrize(
    "week, month, block",
    [
        (49, 13, "Specialization and Research"),
        (60, 15, "Specialization and Research"),
        (61, 16, "Career Transition"),
        (72, 18, "Career Transition"),
    ],
)
def test_weeks_49_to_72_resolve_to_their_months_block(curriculum, week, month, block) -> None:
    plan = curriculum.week(week)
    assert plan.week is None
    assert plan.month.number == month
    assert plan.extended.title == block
    assert plan.extended.sections and all(s.items for s in plan.extended.sections)
    assert plan.next_capstone is None


@pytest.mark.parametrize("week", [0, -1, 73, 1000])
def test_weeks_outside_the_plan_are_refused_with_the_valid_range(curriculum, week) -> None:
    with pytest.raises(WeekOutOfRange, match="valid weeks are 1-72"):
        curriculum.week(week)


def test_the_rest_of_the_plan_is_data_too(curriculum) -> None:
    assert len(curriculum.phases) == 6 and len(curriculum.months) == 18
    resources = curriculum.resources
    assert any(p.title == "Attention Is All You Need" for p in resources.papers)
    assert len(resources.textbooks) == 4 and resources.video_series and resources.courses
    assert any("PyTorch" in lib.names for lib in resources.libraries)
    method = curriculum.study_method
    assert [slot.day for slot in method.weekly_schedule][:1] == ["Monday"]
    assert {s.title for s in method.assessment} >= {"Weekly Assessments", "Monthly Milestones"}


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "curriculum.yaml"
    bad.write_text("title: x\nphases: [1, 2\nmonths: []\n")
    with pytest.raises(CurriculumError, match=r"invalid YAML at line \d+"):
        load_curriculum(bad)


def test_an_invalid_field_names_its_path_and_line(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text().replace(
        "url: https://arxiv.org/abs/1706.03762", "url: not a url", 1
    )
    bad = tmp_path / "curriculum.yaml"
    bad.write_text(text)
    with pytest.raises(CurriculumError) as info:
        load_curriculum(bad)
    message = str(info.value)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if "not a url" in text_line)
    assert f"line {line}:" in message
    assert "url" in message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CurriculumError, match="cannot read curriculum"):
        load_curriculum(tmp_path / "nope.yaml")
