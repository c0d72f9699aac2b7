"""`disburse keys init`: the Ed25519 key that signs checkpoints, kept in a file outside the database."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from disburse.cli.common import USER_HELP, books, console, error_console
from disburse.foundation.i18n import tr, tr_noop

keys_app = typer.Typer(no_args_is_help=True, help=tr_noop("The signing key of the tamper-evidence checkpoints."))


@keys_app.command(
    "init",
    short_help=tr_noop("Create the checkpoint signing key file and store its public key in the database."),
    help=tr_noop(
        "Create an Ed25519 private key file (mode 0600; never overwrites one), print its public key's "
        "fingerprint, and store the public key in the database so `verify` can check signatures "
        "without the private key. Keep the file outside the database's directory and backups; set "
        "DISBURSE_KEY_FILE to its path for every command that changes money."
    ),
)
def keys_init(
    out: Optional[Path] = typer.Option(
        None,
        "--out",
        help=tr_noop("the private key file to create (default DISBURSE_KEY_FILE, else ./disburse-signing.key)"),
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Create an Ed25519 private key file (mode 0600; never overwrites one), print its public key's
    fingerprint, and store the public key in the database so `verify` can check signatures
    without the private key. Keep the file outside the database's directory and backups; set
    DISBURSE_KEY_FILE to its path for every command that changes money."""
    from disburse.foundation.errors import DisburseError
    from disburse.foundation.settings import signing_key_path
    from disburse.foundation.signing import key_create
    from disburse.schema.checkpoints import signing_key_register

    path = signing_key_path(out)
    key = key_create(path)
    console.print(tr("signing key written to {path} (readable only by you)", path=escape(str(path))), soft_wrap=True)
    console.print(tr("fingerprint {fingerprint}", fingerprint=key.fingerprint), soft_wrap=True, highlight=False)
    try:
        with books() as session:
            signing_key_register(session, key, user)
    except DisburseError as error:
        note = tr(
            "the public key is not in the database yet ({error}); the first signed checkpoint stores it",
            error=escape(str(error)),
        )
        error_console.print("[yellow]" + tr("note:") + f"[/yellow] {note}", soft_wrap=True)
        return
    console.print(tr("public key stored in the database; note the fingerprint on paper: it anchors the signatures"))
