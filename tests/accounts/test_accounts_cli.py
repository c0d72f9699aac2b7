"""`disburse users …` and the CLI's account check: with no accounts the CLI works as before and
says so; once an account exists, --user must name an active account with the role needed."""

from __future__ import annotations

from cli_runner import run
from typer.main import get_command
from typer.testing import CliRunner

from disburse.accounts.roles import PERMISSIONS
from disburse.cli import app as cli
from disburse.cli.common import ACCOUNTS_NOT_SET_UP, COMMAND_ACTIONS


def _users(database_url: str, *arguments: str, password: str | None = None, user: str | None = None):  # type: ignore[no-untyped-def]
    environment = {"DISBURSE_USER": user} if user else {}
    result = CliRunner().invoke(cli.app, ["--db", database_url, "users", *arguments], input=password, env=environment)
    return result


def test_every_command_that_takes_user_has_an_action() -> None:
    def commands(group, prefix: str = ""):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            path = f"{prefix}{name}"
            if hasattr(command, "commands"):
                if any(param.name == "user" for param in command.params):
                    yield path
                yield from commands(command, path + " ")
            elif any(param.name == "user" for param in command.params):
                yield path

    taking_user = set(commands(get_command(cli.app)))
    # Every command that takes --user is named (a few names wait for commands other branches add).
    assert taking_user <= set(COMMAND_ACTIONS), taking_user - set(COMMAND_ACTIONS)
    assert len(taking_user) >= 35
    assert {action for action in COMMAND_ACTIONS.values() if action} <= set(PERMISSIONS)


def test_without_accounts_the_cli_works_and_says_so(database_url: str) -> None:
    added = run(database_url, "entities", "add", "611002001001", "--name", "罗口村", "--kind", "village", user="anyone")
    assert (
        added.exit_code == 0
        and ACCOUNTS_NOT_SET_UP in added.stderr.replace("\n", " ").replace("  ", " ")
        or "accounts are not set up" in added.stderr
    )
    assert added.stderr.count("accounts are not set up") == 1


def test_first_account_must_be_an_administrator(database_url: str) -> None:
    refused = _users(database_url, "add", "wang", "--role", "经办", "--password-stdin", password="long-enough-1\n")
    assert refused.exit_code == 1 and "the first account must hold 管理员" in refused.stderr
    added = _users(database_url, "add", "zhao", "--role", "管理员", "--password-stdin", password="long-enough-1\n")
    assert added.exit_code == 0, added.output
    short = _users(database_url, "add", "li", "--role", "审核", "--password-stdin", password="short\n", user="zhao")
    assert short.exit_code == 1 and "at least 8 characters" in short.stderr


def test_once_accounts_exist_user_must_hold_the_role(database_url: str) -> None:
    assert (
        _users(
            database_url, "add", "zhao", "--role", "管理员", "--password-stdin", password="long-enough-1\n"
        ).exit_code
        == 0
    )
    nobody = _users(database_url, "add", "wang", "--role", "经办", "--password-stdin", password="long-enough-1\n")
    assert nobody.exit_code == 1 and "name your account with --user" in nobody.stderr
    assert (
        _users(
            database_url,
            "add",
            "wang",
            "--role",
            "经办",
            "--role",
            "出纳",
            "--password-stdin",
            password="long-enough-1\n",
            user="zhao",
        ).exit_code
        == 0
    )
    assert (
        _users(
            database_url, "add", "li", "--role", "审核", "--password-stdin", password="long-enough-1\n", user="zhao"
        ).exit_code
        == 0
    )

    stranger = run(
        database_url, "entities", "add", "611002001001", "--name", "罗口村", "--kind", "village", user="stranger"
    )
    assert stranger.exit_code == 1 and "'stranger' is not an account" in stranger.stderr
    checker = run(database_url, "entities", "add", "611002001001", "--name", "罗口村", "--kind", "village", user="li")
    assert checker.exit_code == 1 and "account li holds 审核; books.setup needs one of 经办、管理员" in checker.stderr
    maker = run(database_url, "entities", "add", "611002001001", "--name", "罗口村", "--kind", "village", user="wang")
    assert maker.exit_code == 0, maker.output
    assert "accounts are not set up" not in maker.stderr

    listed = _users(database_url, "list", user="zhao")
    assert listed.exit_code == 0 and "wang" in listed.stdout and "经办、出纳" in listed.stdout
    assert _users(database_url, "list", user="wang").exit_code == 1

    assert _users(database_url, "disable", "wang", user="zhao").exit_code == 0
    disabled = run(database_url, "entities", "add", "611002001002", "--name", "张村", "--kind", "village", user="wang")
    assert disabled.exit_code == 1 and "account wang is disabled" in disabled.stderr
    last = _users(database_url, "disable", "zhao", user="zhao")
    assert last.exit_code == 1 and "last active 管理员" in last.stderr
    assert _users(database_url, "enable", "wang", user="zhao").exit_code == 0
    reset = _users(database_url, "reset-password", "wang", "--password-stdin", password="another-one-2\n", user="zhao")
    assert reset.exit_code == 0 and "lock-out" in reset.stdout

    # Reading needs no account; the audit log names who was refused.
    assert run(database_url, "entities", "list", user=None).exit_code == 0
    log = run(database_url, "audit", "log", "--by", "stranger", user=None)
    assert "refused" in log.stdout and "entities add" in log.stdout


def test_unmasked_card_needs_a_role_that_may_see_numbers(database_url: str) -> None:
    assert (
        _users(
            database_url, "add", "zhao", "--role", "管理员", "--password-stdin", password="long-enough-1\n"
        ).exit_code
        == 0
    )
    refused = run(database_url, "report", "household", "6110021012010001", "--unmasked", user="zhao")
    assert refused.exit_code == 1 and "personal.unmask needs one of 出纳、窗口、审计" in refused.stderr
    masked = run(database_url, "report", "household", "6110021012010001", user=None)
    assert "not an account" not in masked.stderr  # masked: no account needed
