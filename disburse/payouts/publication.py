"""Putting a file that a person will act on (a bank file to upload) in place only once the
database records it.

A file is first written under a hidden temporary name beside its final one
(``.batch.csv.BATCH-202611-0001.partial``), flushed to disk, and renamed to its final name only
after the transaction that records it has committed; a rolled-back transaction removes it. So a
process killed at any moment leaves either nothing under the final name, or a file the database
records with this very SHA-256: never an unrecorded file that looks ready to upload. A killed
process may leave a temporary file; the next export of the batch removes it.

The rename is a hard link followed by removing the temporary name, so a file that appeared
under the final name meanwhile is never overwritten (where the file system has no hard links,
a plain rename after checking that nothing is there).
"""

from __future__ import annotations

import errno
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from disburse.foundation.i18n import tr

PARTIAL_SUFFIX = ".partial"
FSYNC_THREADS = 8


def partial_path(final: Path, owner: str) -> Path:
    """The temporary name of ``final`` while ``owner`` (a batch reference) writes it."""
    return final.with_name(f".{final.name}.{owner}{PARTIAL_SUFFIX}")


def leftover_partials(directory: Path, owner: str) -> list[Path]:
    """Temporary files ``owner`` left in ``directory`` (a process killed before it finished)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f".*.{owner}{PARTIAL_SUFFIX}"))


@dataclass
class Publication:
    """Files written under temporary names, waiting for their transaction's end. After the
    commit, ``published`` lists the final paths put in place and ``problems`` what could not be
    (the file is then still under its temporary name, recorded: export it again)."""

    owner: str
    files: list[tuple[Path, Path]]  # (temporary, final)
    published: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    finished: bool = False

    def publish(self) -> None:
        """Move every file to its final name (after the commit)."""
        if self.finished:
            return
        self.finished = True
        for temporary, final in self.files:
            try:
                _move_without_overwriting(temporary, final)
            except OSError as error:
                self.problems.append(
                    tr(
                        "{path} could not be put in place ({error}); the batch records it, so export it again to "
                        "write the same bytes",
                        path=final,
                        error=error.strerror or error,
                    )
                )
                continue
            self.published.append(final)
        for directory in {final.parent for _, final in self.files}:
            _sync_directory(directory)

    def discard(self) -> None:
        """Remove the temporary files (the transaction rolled back: nothing records them)."""
        if self.finished:
            return
        self.finished = True
        for temporary, _ in self.files:
            temporary.unlink(missing_ok=True)


def _write_durably(files: list[tuple[Path, bytes]]) -> None:
    """Write every file, then flush them all to disk at once: fsync releases the interpreter
    lock, so a few threads let the disk take the files together (100 files of a 300,000-payee
    batch: about 0.05 s instead of half a second one after the other)."""
    descriptors: list[int] = []
    try:
        for path, data in files:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            descriptors.append(descriptor)
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, max(1, len(descriptors)))) as pool:
            list(pool.map(os.fsync, descriptors))
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _sync_directory(directory: Path) -> None:
    """Make the directory's new entries durable (a rename is a change of the directory)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform that cannot open a directory: the rename is done, not synced
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _move_without_overwriting(temporary: Path, final: Path) -> None:
    try:
        os.link(temporary, final)
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if final.exists():
            raise FileExistsError(errno.EEXIST, "a file appeared under the final name", str(final)) from None
        os.rename(temporary, final)
        return
    temporary.unlink()


def stage_files(session: Session, owner: str, files: list[tuple[Path, bytes]]) -> Publication:
    """Write each ``(final path, bytes)`` under its temporary name now, and arrange that it is
    renamed into place when ``session`` commits, or removed when it rolls back."""
    staged = [(partial_path(final, owner), final) for final, _ in files]
    publication = Publication(owner, staged)
    try:
        for directory in sorted({final.parent for final, _ in files}):
            directory.mkdir(parents=True, exist_ok=True)
        _write_durably([(temporary, data) for (temporary, _), (_, data) in zip(staged, files)])
    except OSError:
        publication.discard()
        raise
    event.listen(session, "after_commit", lambda _session: publication.publish(), once=True)
    event.listen(session, "after_rollback", lambda _session: publication.discard(), once=True)
    return publication
