"""The registry's refusals as a Chinese-speaking user reads them (the default language)."""

import pytest

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.registry import queries


def test_an_unknown_household_is_refused_in_chinese(engine) -> None:
    with transaction(engine) as session, language("zh"), pytest.raises(DisburseError) as refused:
        queries.household_history(session, "H-404")
    assert str(refused.value) == "户 'H-404' 不在任何已导入的名册快照中"
