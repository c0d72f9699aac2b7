"""Bank statement and reading problems in Chinese (issue 15 item 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.foundation.i18n import language
from disburse.importers.bank_statement import check_running_balance
from disburse.importers.reading import decode_text


def test_a_break_in_the_running_balance_is_explained_in_chinese() -> None:
    # 100.00 then +50.00 should give 150.00; the bank says 140.00 on line 3.
    frame = pd.DataFrame(
        {
            "balance_fen": pd.array([10_000, 14_000], dtype="Int64"),
            "amount_fen": np.array([10_000, 5_000], dtype=np.int64),
            "source_row": np.array([2, 3], dtype=np.int64),
        }
    )
    with language("zh"):
        problems = check_running_balance(frame, np.zeros(2, dtype=bool), "statement.csv", "余额", "error")
    assert [problem.reason for problem in problems] == [
        "第 3 行：余额 140.00 与 100.00 + 50.00 = 150.00 不符；是否缺了交易行？"
    ]


def test_a_file_in_neither_encoding_is_explained_in_chinese() -> None:
    with language("zh"):
        _text, _encoding, reason = decode_text(b"ok\x80\xff")
    assert reason is not None and reason.startswith("文件既不是 UTF-8（首个错误字节在偏移 2）")
    assert reason.endswith("请另存为 UTF-8 或 GBK 文本")
