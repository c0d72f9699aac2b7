"""What the checkpoint tests share: a built month of books signed by checkpoints, clones of it,
an insider's tools (dropping every trigger on a table by hand, re-hashing the journal), and
verify's verdict as a list of problems."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from disburse.foundation.db import make_engine, transaction
from disburse.ledger import chain
from disburse.ledger.reading import load_chain
from disburse.ledger.tables import GENESIS_HASH
from disburse.ledger.verify import verify_books
from disburse.schema.checkpoints import CheckpointReport, checkpoint_append, verify_checkpoints


@dataclass(frozen=True)
class Verdict:
    problems: list[str]
    checkpoints: CheckpointReport

    def names(self, *wanted: str) -> bool:
        """Whether one problem names every one of ``wanted``."""
        return any(all(part in problem for part in wanted) for problem in self.problems)


def verdict(engine: Engine, key_path: Path | None) -> Verdict:
    with transaction(engine) as session:
        chains = verify_books(session)
        signed = verify_checkpoints(session, chains, key_path)
    problems = [problem for report in chains for problem in report.problems] + list(signed.problems)
    return Verdict(problems, signed)


def sign(engine: Engine, key_path: Path, trigger: str = "post", command: str = "test") -> None:
    with transaction(engine) as session:
        outcome = checkpoint_append(session, trigger, command, "alice", key_path)
    assert outcome.signed, outcome.note


def drop_triggers(connection: Connection, table: str) -> list[str]:
    """What an insider does first: drop every trigger on ``table``, whatever the migrations (or
    another change) put there, found in the engine's catalogue rather than by name."""
    if connection.dialect.name == "sqlite":
        names = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"), {"table": table}
        ).scalars()
        dropped = list(names)
        for name in dropped:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
    else:
        dropped = list(
            connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"),
                {"table": table},
            ).scalars()
        )
        for name in dropped:
            connection.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
    return dropped


def rehash_journal(connection: Connection, engine: Engine) -> None:
    """A forger's finishing touch: recompute every entry's hash and every chain head from the
    journal as it now stands, with the engine's own functions."""
    from sqlalchemy.orm import Session

    session = Session(bind=connection)
    for table in ("journal_entries", "chain_heads"):
        drop_triggers(connection, table)
    entity_ids = connection.execute(text("SELECT DISTINCT entity_id FROM journal_entries")).scalars().all()
    for entity_id in entity_ids:
        columns = load_chain(session, entity_id)
        texts = chain.entry_content_texts(columns.batch) if columns.entry_ids else []
        hashes = chain.chain_hashes(
            GENESIS_HASH, texts, columns.voucher_numbers, 1, columns.created_by, columns.created_at
        )
        for entry_id, value in zip(columns.entry_ids, hashes):
            connection.execute(
                text("UPDATE journal_entries SET entry_hash = :hash WHERE id = :id"), {"hash": value, "id": entry_id}
            )
        connection.execute(
            text("UPDATE chain_heads SET head_hash = :hash, last_sequence = :sequence WHERE entity_id = :entity"),
            {"hash": hashes[-1] if hashes else GENESIS_HASH, "sequence": len(hashes), "entity": entity_id},
        )


def clone_sqlite(path: Path, directory: Path, name: str) -> str:
    target = directory / f"{name}.db"
    shutil.copyfile(path, target)
    return f"sqlite:///{target}"


def engine_for(url: str) -> Engine:
    return make_engine(url)
