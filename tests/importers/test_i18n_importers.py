"""Import problems as a Chinese-speaking user reads them (the default language)."""

import numpy as np

from disburse.foundation.i18n import language
from disburse.importers.fields import RESIDENT_ID, FieldSource, parse_amounts_fen, parse_identifiers, parse_integers


def _source(count: int) -> FieldSource:
    return FieldSource("户籍.csv", "身份证号", np.arange(2, 2 + count))


def test_a_resident_id_of_the_wrong_width_reads_in_chinese() -> None:
    with language("zh"):
        _, problems = parse_identifiers(["61010219900101123"], _source(1), RESIDENT_ID)
    assert problems[0].reason == "身份证号有 17 位，应为 18 位（是否丢了开头的 0？）"


def test_a_blank_required_amount_and_a_bad_count_read_in_chinese() -> None:
    with language("zh"):
        _, blank = parse_amounts_fen([None], _source(1))
        _, counted = parse_integers(["三"], _source(1), what="人数")
    assert blank[0].reason == "金额为必填项，但未填写"
    assert counted[0].reason == "人数不是整数"
