"""The command line in the user's language: ``--lang`` (or DISBURSE_LANG), every command's and
option's help looked up in the catalog when the help is shown, and Click's own words (Usage,
Options, "Missing argument") through the same catalog.

Help texts are written as ``help=tr_noop("...")``: Typer rebuilds the Click commands on every
call, so they are translated on the built tree, just before it parses the arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from disburse.foundation import i18n
from disburse.foundation.i18n import tr_noop, trn

LANGUAGE_OPTION = "--lang"
LANGUAGE_HELP = tr_noop("language of messages and help: zh (Simplified Chinese, the default) or en")
_ORIGINALS = "_disburse_help_ids"
_CLICK_MODULES = ("core", "exceptions", "formatting", "decorators", "types", "parser", "termui")


def language_from_arguments(arguments: Sequence[str]) -> str | None:
    """The value of a ``--lang`` before the command's words, or None; a bad value is left for
    the option itself to refuse."""
    for index, argument in enumerate(arguments):
        value = None
        if argument == LANGUAGE_OPTION and index + 1 < len(arguments):
            value = arguments[index + 1]
        elif argument.startswith(LANGUAGE_OPTION + "="):
            value = argument.split("=", 1)[1]
        if value is not None:
            try:
                return i18n.normalise_language(value)
            except ValueError:
                return None
    return None


def _gettext(message: str) -> str:
    return i18n.tr(message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    # Click formats the result itself; trn would format it too early.
    return i18n._translations(i18n.current_language()).ngettext(singular, plural, count)


def patch_click() -> None:
    """Click looks its words up through ``gettext`` bound at import; point them at our catalog."""
    for name in _CLICK_MODULES:
        module = getattr(click, name, None) or __import__(f"click.{name}", fromlist=["_"])
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


def translate_tree(command: click.Command) -> None:
    """Every help text of ``command`` and below, in the current language (from its message id,
    kept on the object, so a second call in another language works too)."""
    ids = command.__dict__.setdefault(_ORIGINALS, (command.help, command.short_help, command.epilog))
    command.help, command.short_help, command.epilog = (i18n.tr(text) if text else text for text in ids)
    for parameter in command.params:
        original = parameter.__dict__.setdefault(_ORIGINALS, getattr(parameter, "help", None))
        if original:
            parameter.help = i18n.tr(original)  # type: ignore[attr-defined]
    for child in getattr(command, "commands", {}).values():
        translate_tree(child)


def unmarked_help() -> list[str]:
    """Every command's and option's help text in the command line that is not a catalog id
    (a docstring used as help, a help= without tr_noop)."""
    import typer.main

    from disburse.cli.app import app
    from disburse.dev.messages import extracted

    ids = {key if isinstance(key, str) else key[0] for key in extracted()}
    found: list[str] = []

    def walk(command, path: str) -> None:  # type: ignore[no-untyped-def]
        if command.help and command.help not in ids:
            found.append(f"{path}: {command.help[:60]!r}")
        for parameter in command.params:
            text = getattr(parameter, "help", None)
            if text and text not in ids:
                found.append(f"{path} {parameter.name}: {text[:60]!r}")
        for name, child in getattr(command, "commands", {}).items():
            walk(child, f"{path} {name}")

    walk(typer.main.get_command(app), "disburse")
    return found


def _click_words() -> None:
    """Click's words users see, marked here so the catalog holds them (never called)."""
    _words = (
        tr_noop("Usage:"),
        tr_noop("Options"),
        tr_noop("Commands"),
        tr_noop("Arguments"),
        tr_noop("Aborted!"),
        tr_noop("Show this message and exit."),
        tr_noop("Error: {message}"),
        tr_noop("Try '{command} {option}' for help."),
        tr_noop("No such command {name!r}."),
        tr_noop("No such option {name!r}."),
        tr_noop("Missing argument"),
        tr_noop("Missing option"),
        tr_noop("Missing parameter"),
        tr_noop("Missing {param_type}"),
        tr_noop("Missing parameter: {param_name}"),
        tr_noop("Invalid value: {message}"),
        tr_noop("Invalid value for {param_hint}: {message}"),
        tr_noop("Missing command."),
        tr_noop("default: {default}"),
        tr_noop("required"),
        tr_noop("'{value}' is not a valid {number_type}."),
        tr_noop("{value!r} is not a valid {number_type}."),
        tr_noop("{value} is not in the range {range}."),
        tr_noop("{value!r} is not a valid boolean. Recognized values: {states}"),
        tr_noop("{name} {filename!r} does not exist."),
        tr_noop("{name} {filename!r} is a file."),
        tr_noop("{name} {filename!r} is a directory."),
        tr_noop("{name} {filename!r} is not readable."),
        tr_noop("{name} {filename!r} is not writable."),
        tr_noop("file"),
        tr_noop("directory"),
        tr_noop("path"),
        tr_noop("Could not open file {filename!r}: {message}"),
        tr_noop("Option {name!r} does not take a value."),
        tr_noop("Do you want to continue?"),
        tr_noop("Confirm the action without prompting."),
        tr_noop("Repeat for confirmation"),
        tr_noop("Error: The two entered values do not match."),
        tr_noop("Choose from:\n\t{choices}"),
    )
    del _words
    trn("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 1, args="")
    trn("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1, possibility="", possibilities="")
    trn("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", 1, name="", nargs=1)
    trn("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1, value="", choice="", choices="")
    trn("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}.", 1,
        value="", format="", formats="")  # fmt: skip
