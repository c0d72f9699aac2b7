"""Issue 15 item 1: every user-facing text goes through the message catalog, Chinese by default.

Three checks keep it so: the catalog itself (every id of the code translated, the same
``{placeholders}`` in both languages, nothing stale, the .mo compiled from the .po); the code
(no refusal, problem reason, help text or printed line written as a bare literal that bypasses
``tr``); and the command line as a user starts it (Chinese help without any setting, English with
``--lang en``).
"""

from __future__ import annotations

import ast
import os
import subprocess

import pytest
from cli_runner import CONSOLE_SCRIPT

from disburse.cli.language import translate_click_message, unmarked_help
from disburse.dev.messages import _problem_list_literals, _value_errors, bypasses, problems
from disburse.foundation.i18n import language, tr


def test_the_catalog_translates_every_message_of_the_code() -> None:
    found = problems()
    assert not found, f"{len(found)} problem(s) with the catalog:\n" + "\n".join(found[:60])


def test_no_user_facing_literal_bypasses_the_catalog() -> None:
    found = bypasses()
    assert not found, f"{len(found)} text(s) not through tr():\n" + "\n".join(found[:80])


VALIDATORS = """
from pydantic import BeforeValidator, model_validator
def _names(value):
    raise ValueError("not a list of names")
Names = BeforeValidator(_names)
class Layout:
    @model_validator(mode="after")
    def _check(self):
        raise ValueError(f"columns: {self} is missing")
def _internal(frame):
    raise ValueError("frame lacks columns")
"""


def test_a_validators_value_error_and_a_problem_tuple_literal_are_bypasses() -> None:
    tree = ast.parse(VALIDATORS)
    # Outside the stages that show every ValueError only the validators' count.
    assert _value_errors(tree, "payouts/layout.py") == [
        "payouts/layout.py:4 ValueError(...)",
        "payouts/layout.py:9 ValueError(...)",
    ]
    assert len(_value_errors(tree, "importers/layout.py")) == 3
    call = ast.parse('ProfileError([(file, "", f"not valid YAML: {error}"), (file, "", why)])').body[0].value
    assert _problem_list_literals(call, "ProfileError", "importers/x.py") == [
        "importers/x.py:1 ProfileError([(..., message)])"
    ]


def test_every_command_and_option_help_is_in_the_catalog() -> None:
    found = unmarked_help()
    assert not found, f"{len(found)} help text(s) not in the catalog:\n" + "\n".join(found[:80])


def test_figures_stay_parameters_in_both_languages() -> None:
    with language("en"):
        english = tr("Invalid value for {param_hint}: {message}", param_hint="'--date'", message="2026-13-01")
    with language("zh"):
        chinese = tr("Invalid value for {param_hint}: {message}", param_hint="'--date'", message="2026-13-01")
    assert english == "Invalid value for '--date': 2026-13-01"
    assert chinese == "'--date' 的值无效：2026-13-01"
    with language("zh"):
        said = translate_click_message("Invalid value for '--date': Input should be a valid date, bad month")
    assert said == "'--date' 的值无效：应为有效的日期"


def test_a_usage_error_reads_in_chinese() -> None:
    with language("zh"):
        assert translate_click_message("No such command 'verifyy'. Did you mean 'verify'?") == (
            "没有命令 'verifyy'。您是否要输入 'verify'？"
        )
        assert translate_click_message("Missing option '--user' (env var: 'DISBURSE_USER').") == (
            "缺少选项 '--user'（或设置环境变量 'DISBURSE_USER'）。"
        )
    with language("en"):
        assert translate_click_message("Missing argument 'FILE'.") == "Missing argument 'FILE'."


def _help(*arguments: str, lang: str | None) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "DISBURSE_LANG"}
    if lang is not None:
        environment["DISBURSE_LANG"] = lang
    ran = subprocess.run([str(CONSOLE_SCRIPT), *arguments], capture_output=True, text=True, env=environment)
    return ran.stdout + ran.stderr


@pytest.mark.slow
def test_help_is_chinese_without_any_setting_and_english_on_request() -> None:
    chinese = _help("--help", lang=None)
    assert "用法：" in chinese and "把惠农资金从来源一直记到每一户" in chinese and "显示本帮助并退出" in chinese
    english = _help("--lang", "en", "--help", lang=None)
    assert "Usage:" in english and "carries rural benefit money" in english and "用法" not in english
    assert "Usage:" in _help("--help", lang="en")
    refused = _help("--lang", "fr", "verify", lang=None)
    assert "请选择 zh 或 en，而不是 'fr'" in refused
