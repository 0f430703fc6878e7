"""`--db FILE`: the state kept in a TinyDB file that survives restarts and kills.

TinyDB's own JSONStorage rewrites its file in place, so a process killed
mid-write leaves a file that does not load. `AtomicJSONStorage` writes a
temporary file beside it, fsyncs it, renames it over the old one and fsyncs
the folder: a reader sees the old state or the new one, never half of each.
A request's changes are batched into a single replacement, so each answered
write costs one fsync and is on disk before the answer leaves.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from . import strict_json
from .errors import InvalidFixture
from .fixtures import COLLECTIONS, ID_FIELDS, Dataset, validate

META_TABLE = "_meta"  # holds the id sequences, so a restart never reuses a deleted id
META_ID = 1


class AtomicJSONStorage(Storage):
    """A TinyDB storage that keeps the data in memory and replaces the file atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._depth = 0
        self._dirty = False
        if self.path.exists():
            self._data = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise InvalidFixture(f"{self.path}: database file cannot be read ({exc.strerror})") from None
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
        self._data = data
        if self._depth:
            self._dirty = True
            return
        try:
            self._flush()
        except BaseException:
            self._revert()
            raise

    def _revert(self) -> None:
        """Forget changes that did not reach the disk: back to what the file holds."""
        self._data = self._load() if self.path.exists() else None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes: the file is replaced once, when the outermost batch ends without error."""
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if not self._depth and self._dirty:
                self._dirty = False
                self._revert()
            raise
        self._depth -= 1
        if not self._depth and self._dirty:
            self._dirty = False
            self.write(self._data)

    def _flush(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                # dumps, not dump: json.dump streams through the pure-Python encoder, ~10x slower
                handle.write(json.dumps(self._data, separators=(",", ":")))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class TinyDBFile:
    """The store's persistence: one TinyDB table per collection, document id = record id."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.parent and not self.path.parent.is_dir():
            raise InvalidFixture(f"{self.path}: folder {self.path.parent} does not exist")
        self.storage: AtomicJSONStorage | None = None
        self.db = TinyDB(str(self.path), storage=self._make_storage)

    def _make_storage(self, path: str) -> AtomicJSONStorage:
        self.storage = AtomicJSONStorage(path)
        return self.storage

    @property
    def exists(self) -> bool:
        return self.storage.read() is not None

    def load(self) -> tuple[Dataset, dict[str, int]]:
        """The state the file holds, checked like a fixture; InvalidFixture when it does not load."""
        tables = self.storage.read() or {}
        unknown = sorted(set(tables) - set(COLLECTIONS) - {META_TABLE})
        if unknown:
            raise InvalidFixture(f"{self.path}: unknown table {unknown[0]!r}; is this an emma-mock database?")
        document = {name: list(tables.get(name, {}).values()) for name in COLLECTIONS}
        dataset = validate([(str(self.path), document)])
        meta = tables.get(META_TABLE, {}).get(str(META_ID), {})
        next_ids = meta.get("next_ids", {}) if isinstance(meta, dict) else {}
        if not isinstance(next_ids, dict) or not all(isinstance(v, int) for v in next_ids.values()):
            raise InvalidFixture(f"{self.path}: table {META_TABLE!r} is damaged (next_ids)")
        return dataset, next_ids

    def save(self, puts: dict[str, list[dict]], deletes: dict[str, list[int]],
             next_ids: dict[str, int]) -> None:
        """Apply one request's changes and replace the file once.

        TinyDB's Table API rebuilds a whole table's dict on every operation, so a
        write would cost the size of the table before it costs the file. A
        request changes a few documents: they are set in the storage's tables
        directly (the file stays TinyDB's format, `{table: {doc_id: document}}`).
        """
        tables = self.storage.read() or {}
        for name in COLLECTIONS:
            table = tables.setdefault(name, {})
            for record_id in deletes.get(name, ()):
                table.pop(str(record_id), None)
            for record in puts.get(name, ()):
                table[str(record[ID_FIELDS[name]])] = record
        tables[META_TABLE] = {str(META_ID): {"next_ids": dict(next_ids)}}
        self.storage.write(tables)

    def replace(self, dataset: Dataset, next_ids: dict[str, int]) -> None:
        with self.storage.batch():
            self.db.drop_tables()
            for name in COLLECTIONS:
                records = getattr(dataset, name)
                if records:
                    id_field = ID_FIELDS[name]
                    self.db.table(name).insert_multiple(Document(r, doc_id=r[id_field]) for r in records)
            self._save_meta(next_ids)

    def _save_meta(self, next_ids: dict[str, int]) -> None:
        self.db.table(META_TABLE).upsert(Document({"next_ids": dict(next_ids)}, doc_id=META_ID))

    def close(self) -> None:
        self.db.close()
