"""``flask --app tracker export quarterly``."""

from __future__ import annotations

from tests.exports.conftest import data_rows, load
from tracker.exports.quarterly import SHEETS


def test_export_quarterly_writes_the_workbook(runner, filed, tmp_path):
    output = tmp_path / "季度报表.xlsx"
    result = runner.invoke(
        args=["export", "quarterly", "--period", "2024Q3", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "74 个填报事项" in result.output
    wb = load(output.read_bytes())
    assert wb.sheetnames == list(SHEETS)
    assert len(data_rows(wb["报告明细"])) == 74
    assert list(tmp_path.iterdir()) == [output]  # no temporary file left behind


def test_export_one_document(runner, filed, tmp_path):
    output = tmp_path / "out.xlsx"
    args = ["export", "quarterly", "--period", "2024Q3", "--document", "民发〔2019〕86号"]
    result = runner.invoke(args=[*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "民发〔2019〕86号" in load(output.read_bytes())["总体情况"]["A2"].value


def test_export_refuses_bad_arguments_and_writes_nothing(runner, filed, tmp_path):
    output = tmp_path / "out.xlsx"
    cases = [
        (["--period", "2024-3"], "无效的报告期"),
        (["--period", "2019Q1"], "不在跟踪范围内"),
        (["--period", "2024Q3", "--document", "民发〔2099〕1号"], "没有文号为"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["export", "quarterly", *args, "--output", str(output)])
        assert result.exit_code == 2 and message in result.output, result.output
    missing = tmp_path / "no-such-dir" / "out.xlsx"
    result = runner.invoke(
        args=["export", "quarterly", "--period", "2024Q3", "--output", str(missing)]
    )
    assert result.exit_code == 2 and "目录不存在" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_defaults_to_the_period_being_reported(runner, filed, tmp_path):
    output = tmp_path / "current.xlsx"
    result = runner.invoke(args=["export", "quarterly", "--output", str(output)])
    assert result.exit_code == 0, result.output
    from tracker.reports.queries import current_period

    assert current_period().key == "2024Q4"  # the clock stands on 2024-10-12
    assert f"已生成 {output}：2024年第四季度" in result.output
    assert output.stat().st_size > 0
