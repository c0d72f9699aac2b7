"""Why a bank payment failed, as one of a fixed list of codes (issue #14 item 5).

Banks write a failed line's reason in their own words (户名不符, 账户已销户, 该账户已冻结, 超过
单日限额 …). The fix-the-card list, the counter and the reports sort them into the six reasons
the subsidy platforms use: 卡号已注销, 户名不符, 卡已达限额, 账户冻结, 账户不存在 and 其他. The bank's
own text is always kept beside the code: a reason no pattern knows is ``other`` and its text says
what happened.

A bank profile may list its own codes or texts per reason (``failure_reasons`` in its return
layout), matched as substrings before the common wordings below; the first reason that matches
wins, in the order of ``FAILURE_REASONS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from disburse.foundation.i18n import TranslatedNames, tr_noop

OTHER = "other"
# In the order patterns are tried: a text naming two reasons ("账号不存在或已销户") gets the first.
FAILURE_REASONS = ("card_closed", "frozen", "name_mismatch", "limit_reached", "no_account", OTHER)
FAILURE_REASON_LENGTH_MAX = 16  # the column holding a code
FAILURE_REASON_NAME_IDS = {
    "card_closed": tr_noop("card closed (卡号已注销)"),
    "name_mismatch": tr_noop("name does not match (户名不符)"),
    "limit_reached": tr_noop("card limit reached (卡已达限额)"),
    "frozen": tr_noop("account frozen (账户冻结)"),
    "no_account": tr_noop("no such account (账户不存在)"),
    OTHER: tr_noop("other failure (其他)"),
}
FAILURE_REASON_NAMES = TranslatedNames(FAILURE_REASON_NAME_IDS)
# The counter's table, the 明白卡 and printed lists are Chinese layouts in every language.
FAILURE_REASON_NAMES_ZH = TranslatedNames(FAILURE_REASON_NAME_IDS, "zh")

# The wordings the common bank return files use (FORMATS.md section 4), as regular
# expressions. Kept narrow: a text that fits none stays ``other`` with the bank's words, which
# is better than a wrong reason on a household's card.
COMMON_PATTERNS: dict[str, tuple[str, ...]] = {
    "card_closed": (r"销户", r"注销", r"已销", r"作废", r"换卡", r"卡.{0,2}(?:过期|失效)"),
    "frozen": (r"冻结", r"止付", r"挂失", r"久悬", r"睡眠", r"不动户"),
    "name_mismatch": (
        r"(?:户名|名称|姓名|账户名).{0,8}(?:不符|不一致|不匹配|错误|有误)",
        r"(?:账号|账户|卡号).{0,2}与.{0,2}(?:户名|名称|姓名).{0,2}(?:不符|不一致|不匹配)",
    ),
    "limit_reached": (r"限额", r"超限", r"(?:超过|超出).{0,6}(?:额度|上限)", r"额度不足"),
    "no_account": (
        r"(?:账户|账号|卡号|帐户|帐号).{0,2}(?:不存在|错误|有误|无效|不正确)",
        r"无此(?:账|帐|卡|户)",
        r"查无此",
    ),
}


def failure_reason_codes(
    reasons: pd.Series | Sequence[object], profile_texts: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """The failure reason code of each bank reason text (``other`` for a text no pattern knows,
    and for a missing one). ``profile_texts``: a bank profile's own codes or texts per reason,
    tried first, as plain substrings. Vectorised: one pass per pattern over all lines."""
    texts = pd.Series(reasons, dtype=object).reset_index(drop=True)
    present = texts.notna().to_numpy()
    words = texts.where(texts.notna(), "").astype(str).str.strip()
    codes = np.full(len(words), OTHER, dtype=object)
    undecided = present & (words != "").to_numpy()
    for code, needles in (profile_texts or {}).items():
        for needle in needles:
            hit = undecided & words.str.contains(needle, regex=False).to_numpy()
            codes[hit], undecided = code, undecided & ~hit
    for code in FAILURE_REASONS[:-1]:
        for pattern in COMMON_PATTERNS[code]:
            hit = undecided & words.str.contains(pattern, regex=True).to_numpy()
            codes[hit], undecided = code, undecided & ~hit
    return codes
