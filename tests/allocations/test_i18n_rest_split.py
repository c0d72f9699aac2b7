"""The split's refusal in Chinese (issue 15 item 1)."""

from __future__ import annotations

import pytest

from disburse.allocations.split import SplitError, split_largest_remainder
from disburse.foundation.i18n import language


def test_a_split_over_zero_weights_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(SplitError) as refused:
        split_largest_remainder(100, [0, 0], [1, 2])
    assert str(refused.value) == "无法分配 100 分：所有权重均为零"
