"""The one masking formatter: worked examples written out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from disburse.foundation.masking import mask_frame, mask_identifier


@pytest.mark.parametrize(
    "value, masked",
    [
        ("610102199001011234", "610102********1234"),  # 18-character resident ID
        ("61010219900101123X", "610102********123X"),  # check character X
        ("6228480012345678901", "622848*********8901"),  # 19-digit card
        ("6228480012345678", "622848******5678"),  # 16-digit card
        ("610102900101123", "610102*****1123"),  # old 15-digit ID: the shortest full form
        (" 610102199001011234\t", "610102********1234"),  # padding from a spreadsheet
        ("12345678901234", "**********1234"),  # 14 digits: tail only
        ("12345678", "****5678"),
        ("123456", "***456"),  # never more than half shown
        ("1234", "**34"),
        ("7", "*"),
        ("", ""),
        (6228480012345678, "622848******5678"),  # an int from a spreadsheet
    ],
)
def test_mask_identifier(value: object, masked: str) -> None:
    assert mask_identifier(value) == masked


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_missing_stays_missing(missing: object) -> None:
    assert mask_identifier(missing) is None


def test_unmasked_shows_the_whole_value() -> None:
    assert mask_identifier(" 610102199001011234 ", unmasked=True) == "610102199001011234"
    assert mask_identifier(None, unmasked=True) is None


def test_mask_frame_masks_only_the_named_columns() -> None:
    frame = pd.DataFrame(
        {
            "name": ["张三", "李四", "王五"],
            "id_number": ["610102199001011234", None, "12345678"],
            "account_no": ["6228480012345678901", "6217000012345678", math.nan],
        }
    )
    masked = mask_frame(frame, ["id_number", "account_no"])
    assert masked["name"].tolist() == ["张三", "李四", "王五"]
    assert masked["id_number"].tolist() == ["610102********1234", None, "****5678"]
    assert masked["account_no"].tolist() == ["622848*********8901", "621700******5678", None]
    # The caller's frame is left as it was.
    assert frame.loc[0, "id_number"] == "610102199001011234"
    assert mask_frame(frame, ["id_number"], unmasked=True).equals(frame)


def test_mask_frame_refuses_a_column_it_cannot_find() -> None:
    with pytest.raises(KeyError, match="id_numbr"):
        mask_frame(pd.DataFrame({"id_number": ["610102199001011234"]}), ["id_numbr"])


def test_a_payee_is_masked_only_when_it_is_a_resident_id():
    from disburse.foundation.masking import mask_payee

    assert mask_payee("11010519491231002X") == "110105********002X"
    assert mask_payee("6110021012010001") == "6110021012010001"  # a household id is not personal
    assert mask_payee("611002101201") == "611002101201"  # nor is a village code
    assert mask_payee(None) == "" and mask_payee(float("nan")) == ""
    assert mask_payee("11010519491231002X", unmasked=True) == "11010519491231002X"
