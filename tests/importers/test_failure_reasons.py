"""Issue 14 item 5: a failed bank line's reason becomes one of six codes (卡号已注销, 户名不符,
卡已达限额, 账户冻结, 账户不存在, 其他), in every bank profile's return layout; a text no pattern
knows is ``other`` and its words are kept."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from importer_helpers import write_csv, write_xlsx

from disburse.importers.bank_profiles import FailureReason, ProfileError, load_profiles, profile_from_text
from disburse.importers.failure_reasons import (
    FAILURE_REASON_NAMES_ZH,
    FAILURE_REASONS,
    OTHER,
    failure_reason_codes,
)
from disburse.importers.returns import parse_bank_return

# The wordings return files use (FORMATS.md section 4 and their common variants) and the code
# each must get, worked out by reading them.
EXAMPLES = {
    "账户已销户": "card_closed",
    "卡号已注销": "card_closed",
    "该卡已作废": "card_closed",
    "户名不符": "name_mismatch",
    "账号户名不符": "name_mismatch",
    "户名与账号不符": "name_mismatch",
    "账号与户名不一致": "name_mismatch",
    "收款人名称错误": "name_mismatch",
    "超过单日限额": "limit_reached",
    "卡已达限额": "limit_reached",
    "Ⅱ类户超限": "limit_reached",
    "账户冻结": "frozen",
    "该账户已冻结": "frozen",
    "账户止付": "frozen",
    "账号不存在": "no_account",
    "账户不存在": "no_account",
    "无此账户": "no_account",
    "卡号错误": "no_account",
    "查无此户": "no_account",
    # Two reasons in one text: the first of the list's order wins.
    "账号不存在或已销户": "card_closed",
    # Nothing a pattern knows: other.
    "余额不足": OTHER,
    "系统繁忙，请稍后重试": OTHER,
    "交易失败": OTHER,
}


def test_the_six_reasons_and_their_chinese_names() -> None:
    assert set(typing.get_args(FailureReason)) == set(FAILURE_REASONS)
    assert [FAILURE_REASON_NAMES_ZH[code] for code in FAILURE_REASONS] == [
        "卡号已注销",
        "账户冻结",
        "户名不符",
        "卡已达限额",
        "账户不存在",
        "其他",
    ]


def test_common_wordings_map_to_their_reason() -> None:
    texts = list(EXAMPLES)
    assert dict(zip(texts, failure_reason_codes(texts).tolist())) == EXAMPLES


def test_missing_and_blank_reasons_are_other() -> None:
    assert failure_reason_codes([None, "", "   ", float("nan")]).tolist() == [OTHER] * 4


def test_a_profiles_own_codes_come_first() -> None:
    # A bank that writes "E302 户名不符" for a closed card (its code table says so) is believed.
    codes = failure_reason_codes(["E302 户名不符", "户名不符", "E999"], {"card_closed": ["E302"]})
    assert codes.tolist() == ["card_closed", "name_mismatch", OTHER]


@given(st.lists(st.one_of(st.none(), st.text(max_size=30), st.sampled_from(list(EXAMPLES))), max_size=40))
def test_every_text_gets_exactly_one_known_code(texts: list[str | None]) -> None:
    codes = failure_reason_codes(texts)
    assert len(codes) == len(texts) and set(codes.tolist()) <= set(FAILURE_REASONS)
    # Line by line the same as all at once: the mapping is per text.
    assert codes.tolist() == [failure_reason_codes([text])[0] for text in texts]


RETURN_PROFILES = sorted(name for name, profile in load_profiles().items() if profile.bank_return is not None)
FAILURES = [("账户已销户", "card_closed"), ("户名不符", "name_mismatch"), ("超过单日限额", "limit_reached"),
            ("账户冻结", "frozen"), ("账号不存在", "no_account"), ("余额不足", OTHER)]  # fmt: skip


def test_every_built_in_return_profile_is_covered() -> None:
    assert RETURN_PROFILES == ["abc", "ccb", "generic", "icbc", "rural_credit"]


@pytest.mark.parametrize("name", RETURN_PROFILES)
def test_each_profiles_return_file_gets_reason_codes(name: str, tmp_path: Path) -> None:
    """A return file in the profile's own layout (its first header per field, its status words,
    its first encoding and file type): one success, then one failure per reason."""
    layout = load_profiles()[name].bank_return
    assert layout is not None
    fields = list(layout.columns)
    header = [layout.columns[field][0] for field in fields] + list(layout.other_headers)
    values = {"account_no": "6217001234567893", "account_name": "张三", "amount": "12.00", "memo": "PAY-202612-000001"}
    rows = [[*(values.get(field, layout.success_values[0]) if field != "reason" else "" for field in fields)]]
    for text, _code in FAILURES:
        cells = {**values, "status": layout.failure_values[0], "reason": text}
        rows.append([cells[field] for field in fields])
    rows = [header] + [row + [""] * len(layout.other_headers) for row in rows]
    if "csv" in layout.file_types:
        path = write_csv(tmp_path / f"{name}.csv", rows, encoding=layout.encodings[0])
    else:
        path = write_xlsx(tmp_path / f"{name}.xlsx", rows)
    parsed = parse_bank_return(path, name)
    assert [problem for problem in parsed.problems if problem.severity == "error"] == []
    frame = parsed.frame
    assert frame["status"].tolist() == ["success"] + ["failure"] * len(FAILURES)
    assert frame["reason_code"].tolist() == [None] + [code for _text, code in FAILURES]
    assert frame["reason"].tolist()[1:] == [text for text, _code in FAILURES]  # the bank's words kept


def test_a_profile_names_its_codes_and_an_unknown_reason_is_refused() -> None:
    base = (
        "bank: 某银行\nreturn:\n  columns: {account_no: 账号, account_name: 户名, amount: 金额, status: 状态, "
        "reason: 原因, memo: 摘要}\n"
    )
    profile = profile_from_text(base + "  failure_reasons: {frozen: [R07], no_account: [R03, R04]}\n", "somebank")
    assert profile.bank_return is not None
    assert profile.bank_return.failure_reasons == {"frozen": ["R07"], "no_account": ["R03", "R04"]}
    with pytest.raises(ProfileError, match="failure_reasons"):
        profile_from_text(base + "  failure_reasons: {lost: [R09]}\n", "somebank")
