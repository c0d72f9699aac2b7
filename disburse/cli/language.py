"""The command line in the user's language: ``--lang`` (or DISBURSE_LANG), every command's and
option's help looked up in the catalog when the help is shown, and Click's own words (Usage,
Options, "Missing argument") through the same catalog.

Help texts are written as ``help=tr_noop("...")``: Typer rebuilds the Click commands on every
call, so they are translated on the built tree, just before it parses the arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from disburse.foundation import i18n
from disburse.foundation.i18n import tr_noop

LANGUAGE_OPTION = "--lang"
LANGUAGE_HELP = tr_noop("language of messages and help: zh (Simplified Chinese, the default) or en")
_ORIGINALS = "_disburse_help_ids"


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


# Typer carries its own copy of Click whose words are plain English literals; a refusal of the
# command line (a usage error) is matched against their shapes and said again in the user's
# language. Each pattern's groups are the message's parameters; a group named ``message`` is a
# message in its turn (``Invalid value for '--date': <why>``).
_CLICK_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), message_id)
    for pattern, message_id in (
        (r"Invalid value for (?P<param_hint>.+?): (?P<message>.*)",
         tr_noop("Invalid value for {param_hint}: {message}")),
        (r"No such command '(?P<name>.+)'\.?", tr_noop("No such command {name!r}.")),
        (r"Invalid value: (?P<message>.*)", tr_noop("Invalid value: {message}")),
        (r"Missing argument (?P<param_hint>.+)\.", tr_noop("Missing argument {param_hint}.")),
        (r"Missing option (?P<param_hint>.+) \(env var: (?P<var>.+)\)\.",
         tr_noop("Missing option {param_hint} (or set the environment variable {var}).")),
        (r"Missing option (?P<param_hint>.+)\.", tr_noop("Missing option {param_hint}.")),
        (r"Input should be a valid (?P<label>\w+)\b.*", tr_noop("should be a valid {label}")),
        (r"Missing parameter: (?P<param_name>.+)", tr_noop("Missing parameter: {param_name}")),
        (r"No such option: (?P<name>\S+) \(Possible options: (?P<possibilities>.+)\)",
         tr_noop("No such option: {name} (possible options: {possibilities})")),
        (r"No such option: (?P<name>\S+)", tr_noop("No such option: {name}")),
        (r"Got unexpected extra arguments? \((?P<args>.*)\)", tr_noop("Got unexpected extra argument(s) ({args})")),
        (r"(?P<message>.+)\. Did you mean (?P<suggestions>.+)\?", tr_noop("{message}. Did you mean {suggestions}?")),
        (r"Value (?P<value>.+) is not a valid (?P<label>[\w ]+)\.", tr_noop("{value} is not a valid {label}.")),
        (r"(?P<value>.+) is not one of (?P<choices>.+)\.", tr_noop("{value} is not one of {choices}.")),
        (r"(?P<value>.+) does not match the formats? (?P<formats>.+)\.",
         tr_noop("{value} does not match the format {formats}.")),
        (r"(?P<label>File|Directory|Path) (?P<filename>.+) does not exist\.",
         tr_noop("{label} {filename} does not exist.")),
        (r"(?P<label>File|Directory|Path) (?P<filename>.+) is a directory\.",
         tr_noop("{label} {filename} is a directory.")),
        (r"(?P<label>File|Directory|Path) (?P<filename>.+) is a file\.", tr_noop("{label} {filename} is a file.")),
    )
)  # fmt: skip
# Words inside those messages: what was missing, what kind of value a label names.
_CLICK_WORDS = {
    "File": tr_noop("File"),
    "Directory": tr_noop("Directory"),
    "Path": tr_noop("Path"),
    "integer": tr_noop("integer"),
    "float": tr_noop("decimal number"),
    "boolean": tr_noop("yes/no value"),
    "number": tr_noop("decimal number"),
    "date": tr_noop("date"),
    "datetime": tr_noop("date and time"),
}


def translate_click_message(text: str) -> str:
    """A message of Typer's Click in the current language (as it is when no shape matches)."""
    for pattern, message_id in _CLICK_SHAPES:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        parameters = found.groupdict()
        if "message" in parameters:
            # "No such command 'x'." ends its sentence; "Did you mean" starts the next one.
            inner = translate_click_message(parameters["message"])
            parameters["message"] = inner.rstrip("。.") if "Did you mean" in message_id else inner
        for name in ("label",):
            if name in parameters and parameters[name] in _CLICK_WORDS:
                parameters[name] = i18n.tr(_CLICK_WORDS[parameters[name]])
        return i18n.tr(message_id, **parameters)
    return text


def _show(self, file=None) -> None:  # type: ignore[no-untyped-def]
    """``UsageError.show`` in the user's language: the usage line, the hint, the error."""
    from typer._click._compat import get_text_stderr
    from typer._click.utils import echo

    file = file or get_text_stderr()
    ctx = getattr(self, "ctx", None)
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            command, option = ctx.command_path, ctx.help_option_names[0]
            hint = i18n.tr("Try '{command} {option}' for help.", command=command, option=option) + "\n"
        echo(f"{ctx.get_usage()}\n{hint}", file=file, color=ctx.color)
    message = translate_click_message(self.format_message())
    echo(i18n.tr("Error: {message}", message=message), file=file, color=getattr(self, "show_color", None))


def patch_click() -> None:
    """Point the words of Typer's Click (usage line, help option, usage errors) at our catalog.
    Idempotent: a second call changes nothing."""
    import typer.core
    from typer._click import core, exceptions, formatting

    if getattr(formatting.HelpFormatter.write_usage, "_disburse", False):
        return
    typer.core._ = _gettext  # type: ignore[attr-defined]
    write_usage = formatting.HelpFormatter.write_usage

    def translated_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:  # type: ignore[no-untyped-def]
        write_usage(self, prog, args, i18n.tr("Usage:") + " " if prefix is None else prefix)

    translated_usage._disburse = True  # type: ignore[attr-defined]
    formatting.HelpFormatter.write_usage = translated_usage  # type: ignore[method-assign]
    get_help_option = core.Command.get_help_option

    def translated_help_option(self, ctx):  # type: ignore[no-untyped-def]
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = i18n.tr("Show this message and exit.")
        return option

    core.Command.get_help_option = translated_help_option  # type: ignore[method-assign]
    exceptions.UsageError.show = _show  # type: ignore[method-assign]
    exceptions.ClickException.show = _show  # type: ignore[method-assign]


SUMMARY_CHARACTERS_MAX = 40


def _summary(help_text: str) -> str:
    """The one-line summary of a command in a list: its first sentence. Click would cut it at a
    space, and a Chinese sentence has none, so it would show only "..."."""
    first = re.split(r"(?<=[。；.;])\s*|\n\n", help_text.strip(), maxsplit=1)[0].strip()
    if len(first) <= SUMMARY_CHARACTERS_MAX:
        return first
    return first[: SUMMARY_CHARACTERS_MAX - 1] + "…"


def translate_tree(command) -> None:  # type: ignore[no-untyped-def]
    """Every help text of ``command`` and below, in the current language (from its message id,
    kept on the object, so a second call in another language works too)."""
    ids = command.__dict__.setdefault(_ORIGINALS, (command.help, command.short_help, command.epilog))
    command.help, command.short_help, command.epilog = (i18n.tr(text) if text else text for text in ids)
    if command.help and not command.short_help and i18n.current_language() != "en":
        command.short_help = _summary(command.help)
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


def _click_words() -> tuple[str, ...]:
    """The rest of Click's words users see, marked here so the catalog holds them."""
    return (
        tr_noop("Usage:"),
        tr_noop("Options"),
        tr_noop("Commands"),
        tr_noop("Arguments"),
        tr_noop("Aborted!"),
        tr_noop("Show this message and exit."),
        tr_noop("Error: {message}"),
        tr_noop("Try '{command} {option}' for help."),
        tr_noop("No such command {name!r}."),
        tr_noop("Missing command."),
        tr_noop("default: {default}"),
        tr_noop("required"),
        tr_noop("env var: {var}"),
        tr_noop("(dynamic)"),
    )
