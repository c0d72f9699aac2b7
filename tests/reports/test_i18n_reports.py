"""What a user reading Chinese sees when a report refuses (issue 15 item 1): the refusals go
through the catalog; the printed books themselves stay the Chinese forms they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.reports import printing
from disburse.reports.printing import refuse_suffix
from disburse.reports.vouchers import voucher_number_of


def test_a_malformed_voucher_number_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(DisburseError) as refused:
        voucher_number_of("第三张")
    assert str(refused.value) == "凭证号 '第三张' 不对，应写成 记-0003 这样的凭证号"


def test_a_book_written_under_a_wrong_suffix_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(DisburseError) as refused:
        refuse_suffix(Path("余额表.doc"), (".pdf", ".xlsx"), "科目余额表")
    assert str(refused.value) == "余额表.doc：科目余额表 只能保存为 .pdf 或 .xlsx，不能是 .doc"


def test_why_a_pdf_cannot_be_printed_is_told_in_the_askers_language(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine check is cached; the words must not be: the same process may answer a Chinese
    # web page and an English command line.
    monkeypatch.setattr(printing, "_pdf_missing", lambda: ("font", ""))
    with language("zh"):
        chinese = printing.pdf_problem()
    with language("en"):
        english = printing.pdf_problem()
    assert (
        chinese
        == "本机没有安装中文字体，打印的 PDF 会显示为空白方框；请安装中文字体，例如 `apt-get install fonts-noto-cjk`"
    )
    assert english == (
        "no Chinese font is installed, so a PDF would print empty boxes; "
        "install a Chinese font, e.g. `apt-get install fonts-noto-cjk`"
    )
