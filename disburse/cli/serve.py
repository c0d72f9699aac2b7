"""`disburse serve`: the web application on the same database as the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from disburse.cli.common import console, state
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop

LOOPBACK = "127.0.0.1"
# The command's help (the root app registers `serve` from its docstring, which says the same).
SERVE_HELP = tr_noop("Start the web application (Chinese pages for 窗口, 经办, 审核, 出纳, 审计 and 管理员).")


def serve(
    host: str = typer.Option(LOOPBACK, "--host", help=tr_noop("address to listen on (0.0.0.0: every interface)")),
    port: int = typer.Option(8000, "--port", help=tr_noop("TCP port")),
    files: Optional[Path] = typer.Option(
        None, "--files", help=tr_noop("where bank files, exports and uploads are kept; default ./disburse-files")
    ),
    upload_max_mb: int = typer.Option(512, "--upload-max-mb", help=tr_noop("the largest upload accepted, in MiB")),
    idle_minutes: int = typer.Option(30, "--idle-minutes", help=tr_noop("a session ends after this many idle minutes")),
) -> None:
    """Start the web application (Chinese pages for 窗口, 经办, 审核, 出纳, 审计 and 管理员)."""
    import uvicorn

    from disburse.foundation.db import make_engine
    from disburse.schema import migrate as schema
    from disburse.web.app import create_app
    from disburse.web.settings import WebSettings

    if not 1 <= port <= 65_535:
        raise DisburseError(tr("--port {port} is not a TCP port (1 to 65535)", port=port))
    engine = make_engine(state.database_url)
    try:
        schema.require_current(engine)
    finally:
        engine.dispose()
    settings = WebSettings.build(
        database_url=state.database_url,
        files_directory=files or Path("disburse-files"),
        upload_bytes_max=upload_max_mb * 1024 * 1024,
        idle_minutes=idle_minutes,
    )
    application = create_app(settings)
    console.print(tr("disburse web application on http://{host}:{port}/ (Ctrl+C stops it)", host=host, port=port))
    # One process: sessions, running jobs and rate limits live in its memory; threads serve
    # the pages while long work runs in the background.
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False, workers=1)
