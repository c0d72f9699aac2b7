"""Allocation names and refusals as a Chinese-speaking user reads them (the default language)."""

from disburse.allocations.runs import COMPONENT_NAMES_ZH
from disburse.foundation.i18n import language, tr


def test_component_names_follow_the_language_and_are_still_a_mapping() -> None:
    with language("zh"):
        assert COMPONENT_NAMES_ZH["household_share"] == "农户收益分配"
        assert COMPONENT_NAMES_ZH.get("cap_held_back", "cap_held_back") == "封顶留存"
        assert COMPONENT_NAMES_ZH.get("no_such_part", "no_such_part") == "no_such_part"
    with language("en"):
        assert COMPONENT_NAMES_ZH["benefit"] == "benefit payment"
    assert len(COMPONENT_NAMES_ZH) == 15


def test_the_four_eyes_refusal_of_a_run_reads_in_chinese() -> None:
    with language("zh"):
        said = tr(
            "run {run} was calculated by {user}; a different person must approve it (four eyes)", run=7, user="张会计"
        )
    assert said == "分配表 7 由 张会计 计算；须由另一人审核（双人复核：制单人与审核人不得为同一人）"
