"""Registry refusals and assets-file problems in Chinese (issue 15 item 1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.registry import service
from disburse.registry.assets_file import parse_assets


def test_a_bad_scope_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(DisburseError) as refused:
        service.RegisterScope.parse("county")
    assert str(refused.value) == "--scope 应写作 乡镇:NAME 或 行政村:NAME，不能是 'county'"


def test_a_snapshot_dated_in_the_future_is_refused_in_chinese(tmp_path: Path) -> None:
    # Refused before the file or the books are looked at: no session is needed.
    with language("zh"), pytest.raises(DisburseError) as refused:
        service.import_register(
            None,  # type: ignore[arg-type]
            tmp_path / "register.csv",
            user="张会计",
            as_of=dt.date(2026, 12, 5),
            today=dt.date(2026, 12, 1),
        )
    assert str(refused.value) == "--as-of 2026-12-05 晚于今天（今天是 2026-12-01）"


def test_an_assets_file_that_is_not_a_mapping_is_a_chinese_problem(tmp_path: Path) -> None:
    path = tmp_path / "assets.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with language("zh"):
        _assets, problems, _digest = parse_assets(path)
    assert [problem.reason for problem in problems] == ["资产文件应为含 stations: 和 cooperatives: 的映射"]
