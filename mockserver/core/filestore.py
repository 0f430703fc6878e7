"""`--db FILE`: the state kept in a TinyDB file that survives restarts and kills.

TinyDB's own JSONStorage rewrites its file in place, so a process killed
mid-write leaves a file that does not load. `AtomicJSONStorage` writes a
temporary file beside it, fsyncs it, renames it over the old one and fsyncs
the folder: a reader sees the old state or the new one, never half of each.
Each answered write is on disk before the answer leaves: a replacement of the
file, or (for large states) a line in a journal beside it; see TinyDBFile.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from . import strict_json
from .errors import InvalidFixture
from .fixtures import COLLECTIONS, ID_FIELDS, Dataset, validate

log = logging.getLogger("mockserver")

META_TABLE = "_meta"  # holds the id sequences, so a restart never reuses a deleted id
META_ID = 1


class AtomicJSONStorage(Storage):
    """A TinyDB storage that keeps the data in memory and replaces the file atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._depth = 0
        self._dirty = False
        self.size = 0  # characters in the file as last written or read
        if self.path.exists():
            self._data = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise InvalidFixture(f"{self.path}: database file cannot be read ({exc.strerror})") from None
        self.size = len(raw)
        if not raw.strip():
            raise InvalidFixture(f"{self.path}: database file is empty; remove it to start again from the fixtures")
        try:
            data = strict_json.loads(raw, max_depth=strict_json.DOCUMENT_DEPTH)
        except (ValueError, RecursionError) as exc:
            raise InvalidFixture(f"{self.path}: database file is not valid JSON ({exc}); "
                                 "it was left untouched") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise InvalidFixture(f"{self.path}: not a TinyDB database (expected an object of tables)")
        return data

    def read(self) -> dict[str, dict[str, Any]] | None:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with `data`; on failure the file is unchanged (the cache is not: see reload)."""
        self._data = data
        self._flush()

    def reload(self) -> None:
        """Forget changes that did not reach the disk: back to what the file holds."""
        self._data = self._load() if self.path.exists() else None

    def _flush(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                # dumps, not dump: json.dump streams through the pure-Python encoder, ~10x slower
                self.size = handle.write(json.dumps(self._data, separators=(",", ":")))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self.path.parent)


class TinyDBFile:
    """The store's persistence: one TinyDB table per collection, document id = record id.

    While the file is small, every write replaces it whole (a fraction of a
    millisecond to encode, then the fsyncs). Past REWRITE_LIMIT that cost grows
    with the state, so a write instead appends one line to `FILE.journal` and
    fsyncs it: the cost of the change, whatever the size of the state. The
    journal is folded into the file (a checkpoint: the same atomic replacement)
    when it reaches a quarter of the file, on reset and state upload, at start
    and on a clean stop. Replaying a line twice is harmless (puts and deletes
    are by id), so a kill between a checkpoint and the journal's truncation
    loses nothing; a last line without its newline was never answered and is
    dropped.
    """

    REWRITE_LIMIT = 64 * 1024  # bytes of file below which a write rewrites the file
    JOURNAL_MIN = 1024 * 1024  # a journal this small is never worth a checkpoint

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.parent and not self.path.parent.is_dir():
            raise InvalidFixture(f"{self.path}: folder {self.path.parent} does not exist")
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.storage: AtomicJSONStorage | None = None
        self.db = TinyDB(str(self.path), storage=self._make_storage)
        if self.storage.read() is None and self.journal_path.exists():
            raise InvalidFixture(f"{self.journal_path}: a journal without its database {self.path}; "
                                 "restore the database or remove the journal")
        self._journal: int | None = None  # file descriptor, opened on the first journaled write
        self._journal_size = self.journal_path.stat().st_size if self.journal_path.exists() else 0

    def _make_storage(self, path: str) -> AtomicJSONStorage:
        self.storage = AtomicJSONStorage(path)
        return self.storage

    @property
    def exists(self) -> bool:
        """Whether the file holds a state; a TinyDB file with no tables of ours (`{}`, as
        TinyDB creates it, or an empty `_default` table) is a new one, seeded from the fixtures."""
        data = self.storage.read()
        return data is not None and not (set(data) <= {"_default"} and not any(data.values()))

    def load(self) -> tuple[Dataset, dict[str, int]]:
        """The state the file and its journal hold, checked like a fixture; InvalidFixture when it does not load."""
        tables = self.storage.read() or {}
        unknown = sorted(set(tables) - set(COLLECTIONS) - {META_TABLE})
        if unknown:
            raise InvalidFixture(f"{self.path}: unknown table {unknown[0]!r}; is this an emma-mock database?")
        replayed = self._replay(tables)
        document = {name: list(tables.get(name, {}).values()) for name in COLLECTIONS}
        dataset = validate([(str(self.path), document)])
        meta = tables.get(META_TABLE, {}).get(str(META_ID), {})
        next_ids = meta.get("next_ids", {}) if isinstance(meta, dict) else {}
        if not isinstance(next_ids, dict) or not all(isinstance(v, int) for v in next_ids.values()):
            raise InvalidFixture(f"{self.path}: table {META_TABLE!r} is damaged (next_ids)")
        if replayed:
            self.checkpoint()  # the state checked whole: fold the journal in, start a new one
        return dataset, next_ids

    def _reload(self) -> None:
        """After a failed write: the tables as the file and its journal hold them."""
        self.storage.reload()
        if self.storage.read() is not None:
            self._replay(self.storage.read())

    def _replay(self, tables: dict[str, dict[str, Any]]) -> int:
        """Apply the journal's complete lines to the tables; the number applied."""
        if not self.journal_path.exists():
            return 0
        raw = self.journal_path.read_bytes()
        lines = raw.split(b"\n")[:-1]  # the part after the last newline is a write never answered
        for number, line in enumerate(lines, 1):
            try:
                change = strict_json.loads(line)
                _apply(tables, change["puts"], change["deletes"], change["next_ids"])
            except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
                raise InvalidFixture(f"{self.journal_path}: line {number} is damaged; "
                                     "both files were left untouched") from None
        return len(lines) or (1 if raw else 0)

    def save(self, puts: dict[str, list[dict]], deletes: dict[str, list[int]],
             next_ids: dict[str, int]) -> None:
        """Make one request's changes durable: a whole-file replacement or one journal line.

        TinyDB's Table API rebuilds a whole table's dict on every operation, so the
        changed documents are set in the storage's tables directly (the file stays
        TinyDB's format, `{table: {doc_id: document}}`).
        """
        if self.storage.size < self.REWRITE_LIMIT and not self._journal_size:
            try:
                self.storage.write(_apply(self.storage.read() or {}, puts, deletes, next_ids))
            except BaseException:
                self._reload()  # the file is as before: so must the tables be
                raise
            return
        line = json.dumps({"puts": puts, "deletes": deletes, "next_ids": next_ids},
                          separators=(",", ":")).encode() + b"\n"
        self._append(line)  # durable first: the tables in memory change only once it is on disk
        _apply(self.storage.read(), puts, deletes, next_ids)
        if self._journal_size > max(self.JOURNAL_MIN, self.storage.size // 4):
            try:
                self.checkpoint()
            except OSError as exc:  # the write is safe in the journal; fold it in at the next chance
                log.warning("checkpoint of %s failed (%s); the journal keeps every write", self.path, exc)

    def _append(self, line: bytes) -> None:
        if self._journal is None:
            self._journal = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            _fsync_directory(self.path.parent)  # the new journal's name must survive a power loss too
        try:
            written = os.write(self._journal, line)
            if written != len(line):
                raise OSError(f"short write to {self.journal_path}")
            _fdatasync(self._journal)
        except OSError:
            os.ftruncate(self._journal, self._journal_size)  # no half line left for the next write
            raise
        self._journal_size += len(line)

    def checkpoint(self, tables: dict[str, dict[str, Any]] | None = None) -> None:
        """Replace the file with the whole state (or `tables`), then empty the journal."""
        self.storage.write(tables if tables is not None else self.storage.read() or {})
        if self._journal_size or self.journal_path.exists():
            if self._journal is not None:
                os.close(self._journal)
                self._journal = None
            self.journal_path.unlink(missing_ok=True)
            self._journal_size = 0

    def replace(self, dataset: Dataset, next_ids: dict[str, int]) -> None:
        tables: dict[str, dict[str, Any]] = {
            name: {str(r[ID_FIELDS[name]]): r for r in getattr(dataset, name)} for name in COLLECTIONS}
        tables[META_TABLE] = {str(META_ID): {"next_ids": dict(next_ids)}}
        try:
            self.checkpoint(tables)
        except BaseException:
            self._reload()
            raise

    def close(self) -> None:
        """Fold the journal in, so the file alone holds the state after a clean stop."""
        if self._journal_size:
            self.checkpoint()
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None


_fdatasync = getattr(os, "fdatasync", os.fsync)  # macOS and Windows have only fsync


def _fsync_directory(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (POSIX; Windows cannot open a folder)."""
    if os.name == "nt":
        return
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _apply(tables: dict[str, dict[str, Any]], puts: dict[str, list[dict]], deletes: dict[str, list[int]],
           next_ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    for name in COLLECTIONS:
        table = tables.setdefault(name, {})
        for record_id in deletes.get(name, ()):
            table.pop(str(record_id), None)
        for record in puts.get(name, ()):
            table[str(record[ID_FIELDS[name]])] = record
    meta = tables.setdefault(META_TABLE, {}).get(str(META_ID), {})
    old = meta.get("next_ids", {}) if isinstance(meta, dict) else {}
    merged = {name: max(value, old.get(name, 0)) for name, value in next_ids.items()}
    tables[META_TABLE] = {str(META_ID): {"next_ids": merged}}
    return tables
