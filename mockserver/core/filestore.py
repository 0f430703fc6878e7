"""`--db FILE`: the state kept in a TinyDB file that survives restarts and kills.

TinyDB's own JSONStorage rewrites its file in place, so a process killed
mid-write leaves a file that does not load. `AtomicJSONStorage` writes a
temporary file beside it, fsyncs it, renames it over the old one and fsyncs
the folder: a reader sees the old state or the new one, never half of each.
Each answered write is on disk before the answer leaves: a replacement of the
file, or (for large states) a line in a write-ahead log beside it; see TinyDBFile.
One file has one server: an OS lock on `FILE.lock`, which the OS drops with
the process however it ends (see FileLock). A `--db` link names the file it
leads to, and no file of ours beside it is ever written through a link
someone planted there (see _create_own and _own_file).
"""
from __future__ import annotations

import errno
import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from . import strict_json
from .checks import is_int
from .errors import InvalidFixture
from .fixtures import COLLECTIONS, ID_FIELDS, Dataset, validate
from .ids import MAX_ID, MAX_ID_DIGITS
from .records import JSONObject

log = logging.getLogger("mockserver")

META_TABLE = "_meta"  # holds the id sequences, so a restart never reuses a deleted id
META_ID = 1
# Each checkpoint starts a new write-ahead log generation, kept in the file's `_meta` and on every write-ahead log
# line: a replay applies only the lines of the file's own generation, so write-ahead log lines left behind
# by a checkpoint, reset or state upload killed before the write-ahead log was emptied are never replayed
# over the new state.
GENERATION = "generation"
# A write-ahead log line nests a record two levels deeper than its request did ({"puts": {name: [record]}}),
# so it is read with the depth of a whole document: whatever a write accepted, a replay loads.
LINE_DEPTH = strict_json.DOCUMENT_DEPTH




class FileLock:
    """An exclusive OS lock on `FILE.lock`: one server per database file.

    flock (POSIX) and msvcrt.locking (Windows) locks belong to the open file and
    end with the process, kill -9 included, so a stale lock file never blocks a
    restart. The file holds the owner's pid, for the message of the refused one.
    """

    def __init__(self, path: Path):
        self.path = path
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _planted(path) from None
                raise InvalidFixture(f"{path.parent}: cannot create files in this folder "
                                     f"({exc.strerror or exc}); the database needs a writable folder") from None
            if not _own_file(fd):
                os.close(fd)
                raise _planted(path)
            if not _try_lock(fd):
                owner = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                raise InvalidFixture(f"{path.with_suffix('')}: in use by another emma-mock server"
                                     f"{f' (pid {owner})' if owner.isdigit() else ''}; "
                                     "one database file serves one server")
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino  # not a file a stopping owner just removed
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self.fd: int | None = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk: not even the few bytes of a pid
            self.release()
            raise _unwritable(path, exc) from None

    def release(self) -> None:
        """Remove the lock file, then unlock (removed first: a waiter then sees it is stale)."""
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a stale lock file is harmless: the lock itself ends with the descriptor
        os.close(self.fd)
        self.fd = None


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; Windows has no symbolic links a user may plant


def _own_file(fd: int) -> bool:
    """Whether an opened file of ours (lock, write-ahead log) is one emma-mock could have made: a regular
    file with no other name. A hard link someone planted would have the server write into its target."""
    status = os.fstat(fd)
    return stat.S_ISREG(status.st_mode) and status.st_nlink <= 1


def _not_a_file(path: Path) -> bool:
    """Whether something other than a regular file holds the name (a link counts as something else)."""
    try:
        return not stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _planted(path: Path) -> InvalidFixture:
    return InvalidFixture(f"{path}: is a link or not a regular file, which emma-mock never makes; "
                          "remove it (nothing was written through it)")


def _unwritable(path: Path, exc: OSError) -> InvalidFixture:
    return InvalidFixture(f"{path}: cannot be written ({exc.strerror or exc}); make room or start without --db "
                          "(nothing was changed)")


def _create_own(path: Path, flags: int) -> int:
    """Create `path` anew for writing: what was there (a killed process's leftover, or a link someone
    planted) is removed first, and O_EXCL makes the open fail rather than follow a link put back since."""
    path.unlink(missing_ok=True)
    return os.open(path, flags | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise


class AtomicJSONStorage(Storage):
    """A TinyDB storage that keeps the data in memory and replaces the file atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
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
        """Replace the file with `data`; on failure (OSError) both the file and the cache are unchanged."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(_create_own(temporary, os.O_WRONLY), "w", encoding="utf-8") as handle:
                # dumps, not dump: json.dump streams through the pure-Python encoder, ~10x slower
                size = handle.write(json.dumps(data, separators=(",", ":")))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._data, self.size = data, size  # the rename is the commit: what the file now holds
        try:
            _fsync_directory(self.path.parent)
        except OSError as exc:  # the new file is in place; only its survival of a power loss is unsure
            log.warning("fsync of folder %s failed (%s)", self.path.parent, exc)


class TinyDBFile:
    """The store's persistence: one TinyDB table per collection, document id = record id.

    While the file is small, every write replaces it whole (a fraction of a
    millisecond to encode, then the fsyncs). Past REWRITE_LIMIT that cost grows
    with the state, so a write instead appends one line to `FILE.wal` and
    fsyncs it: the cost of the change, whatever the size of the state. The
    write-ahead log is folded into the file (a checkpoint: the same atomic replacement)
    when it reaches a quarter of the file, on reset and state upload, at start
    and on a clean stop. Each checkpoint starts a new generation (GENERATION), so
    a kill between a checkpoint and the write-ahead log's removal loses nothing and
    replays nothing twice; a last line without its newline was never answered
    and is dropped. A write that fails (OSError) changes neither the file, the
    write-ahead log, nor the tables in memory.
    """

    REWRITE_LIMIT = 64 * 1024  # bytes of file below which a write rewrites the file
    WAL_MIN = 1024 * 1024  # a write-ahead log this small is never worth a checkpoint

    def __init__(self, path: str | Path):
        # Through symbolic links, the file they lead to at start (a link pointed elsewhere later does not move
        # the state). Its lock, temporary files and write-ahead log sit beside it: every link to it meets one lock.
        self.path = Path(os.path.realpath(path))
        if not self.path.parent.is_dir():
            raise InvalidFixture(f"{self.path}: folder {self.path.parent} does not exist")
        if _not_a_file(self.path):  # a folder, or a FIFO that would hold the start up forever
            raise InvalidFixture(f"{self.path}: is not a regular file; --db needs a file (or a link to one)")
        self.wal_path = self.path.with_name(self.path.name + ".wal")
        self._released = False
        self._lock = FileLock(self.path.with_name(self.path.name + ".lock"))
        self._wal: int | None = None  # file descriptor, opened on the first logged ahead write
        self._wal_torn = False  # a failed append could not be cut off: cut it before the next one
        try:
            if _not_a_file(self.wal_path):
                raise _planted(self.wal_path)
            if self.path.exists() and not os.access(self.path, os.W_OK):
                raise InvalidFixture(f"{self.path}: the database file is read-only; make it writable "
                                     "or start without --db")
            # TinyDB's own storage interface, used directly: the file stays `TinyDB(path)`'s format,
            # while writes set changed documents in its tables (TinyDB's Table API rebuilds a
            # whole table on every operation).
            self.storage = AtomicJSONStorage(self.path)
            if self.storage.read() is None and self.wal_path.exists():
                raise InvalidFixture(f"{self.wal_path}: a write-ahead log without its database {self.path}; "
                                     "restore the database or remove the write-ahead log")
            self._wal_size = self.wal_path.stat().st_size if self.wal_path.exists() else 0
            self._generation = _generation(self.storage.read() or {})
        except BaseException:
            self._lock.release()
            raise

    @property
    def exists(self) -> bool:
        """Whether the file holds a state; a TinyDB file with no tables of ours (`{}`, as
        TinyDB creates it, or an empty `_default` table) is a new one, seeded from the fixtures."""
        data = self.storage.read()
        return data is not None and not (set(data) <= {"_default"} and not any(data.values()))

    def load(self) -> tuple[Dataset, dict[str, int]]:
        """The state the file and its write-ahead log hold, checked like a fixture.

        InvalidFixture when it does not load.
        """
        tables = self.storage.read() or {}
        unknown = sorted(set(tables) - set(COLLECTIONS) - {META_TABLE})
        if unknown:
            raise InvalidFixture(f"{self.path}: unknown table {unknown[0]!r}; is this an emma-mock database?")
        meta = tables.get(META_TABLE, {}).get(str(META_ID), {})
        if not isinstance(meta, dict) or not is_int(meta.get(GENERATION, 0)):
            raise InvalidFixture(f"{self.path}: table {META_TABLE!r} is damaged ({GENERATION})")
        replayed = self._replay(tables)
        document = {name: list(tables.get(name, {}).values()) for name in COLLECTIONS}
        dataset = validate([(str(self.path), document)])
        meta = tables.get(META_TABLE, {}).get(str(META_ID), {})
        next_ids = meta.get("next_ids", {}) if isinstance(meta, dict) else {}
        if not isinstance(next_ids, dict) or not all(is_int(v) for v in next_ids.values()):
            raise InvalidFixture(f"{self.path}: table {META_TABLE!r} is damaged (next_ids)")
        for name, value in next_ids.items():  # MAX_ID + 1: a sequence used up, which no write passes
            if value > MAX_ID + 1:
                raise InvalidFixture(f"{self.path}: table {META_TABLE!r} is damaged (next_ids: {name} {value} "
                                     f"is past the largest id, {MAX_ID}; ids have at most {MAX_ID_DIGITS} digits)")
        if replayed:
            try:
                self.checkpoint()  # the state checked whole: fold the write-ahead log in, start a new one
            except OSError as exc:  # a restart on a full disk: both files stay as they were
                raise _unwritable(self.path, exc) from None
        return dataset, next_ids

    def _replay(self, tables: dict[str, dict[str, Any]]) -> int:
        """Apply the write-ahead log's complete lines of the file's generation to the tables; the lines read."""
        if not self.wal_path.exists():
            return 0
        try:
            raw = self.wal_path.read_bytes()
        except OSError as exc:
            raise InvalidFixture(f"{self.wal_path}: cannot be read ({exc.strerror or exc})") from None
        lines = raw.split(b"\n")[:-1]  # the part after the last newline is a write never answered
        generation = self._generation
        for number, line in enumerate(lines, 1):
            try:
                change = strict_json.loads(line, max_depth=LINE_DEPTH)
                if change.get(GENERATION, 0) != generation:
                    continue  # written before the file's last checkpoint: already in it, or replaced
                _apply(tables, change["puts"], change["deletes"], change["next_ids"])
            except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
                raise InvalidFixture(f"{self.wal_path}: line {number} is damaged; "
                                     "both files were left untouched") from None
        return len(lines) or (1 if raw else 0)

    def save(self, puts: dict[str, list[JSONObject]], deletes: dict[str, list[int]],
             next_ids: dict[str, int]) -> None:
        """Make one request's changes durable: a whole-file replacement or one write-ahead log line.

        TinyDB's Table API rebuilds a whole table's dict on every operation, so the
        changed documents are set in the storage's tables directly (the file stays
        TinyDB's format, `{table: {doc_id: document}}`). OSError: nothing changed.
        """
        self._check_held()
        if self.storage.size < self.REWRITE_LIMIT and not self._wal_size:
            tables = {name: dict(table) for name, table in (self.storage.read() or {}).items()}  # small: cheap
            self.storage.write(_apply(tables, puts, deletes, next_ids))
            return
        line = json.dumps({GENERATION: self._generation, "puts": puts, "deletes": deletes, "next_ids": next_ids},
                          separators=(",", ":")).encode() + b"\n"
        self._append(line)  # durable first: the tables in memory change only once it is on disk
        _apply(self.storage.read() or {}, puts, deletes, next_ids)
        if self._wal_size > max(self.WAL_MIN, self.storage.size // 4):
            try:
                self.checkpoint()
            except OSError as exc:  # the write is safe in the write-ahead log; fold it in at the next chance
                log.warning("checkpoint of %s failed (%s); the write-ahead log keeps every write", self.path, exc)

    def _append(self, line: bytes) -> None:
        if self._wal is None:
            flags = os.O_WRONLY | os.O_APPEND
            # A new write-ahead log is created anew; one a checkpoint could not remove (older lines) is appended
            # to, if it is still a file of ours. Neither is ever opened through a link someone planted.
            wal = (_create_own(self.wal_path, flags) if not self._wal_size
                   else os.open(self.wal_path, flags | os.O_CREAT | _NOFOLLOW, 0o644))
            try:
                if not _own_file(wal):
                    raise OSError(errno.EEXIST, f"{self.wal_path} was replaced by a link or another kind of file")
                _fsync_directory(self.path.parent)  # the new write-ahead log's name must survive a power loss too
            except OSError:
                os.close(wal)
                raise
            self._wal = wal
        if self._wal_torn:  # a half line from a failed append would glue onto this one
            os.ftruncate(self._wal, self._wal_size)
            self._wal_torn = False
        try:
            written = os.write(self._wal, line)
            if written != len(line):
                raise OSError(errno.ENOSPC, f"short write to {self.wal_path}")
            _fdatasync(self._wal)
        except OSError:
            try:
                os.ftruncate(self._wal, self._wal_size)  # no half line left for the next write
            except OSError:
                self._wal_torn = True
            raise
        self._wal_size += len(line)

    def checkpoint(self, tables: dict[str, dict[str, Any]] | None = None) -> None:
        """Replace the file with the whole state (or `tables`) in a new generation, then drop the write-ahead log.

        OSError when the file could not be replaced: then nothing changed. Once it is
        replaced the checkpoint holds, even if the write-ahead log cannot be removed (its
        lines, of an older generation, are never replayed).
        """
        self._check_held()
        current = tables if tables is not None else self.storage.read() or {}
        meta = current.get(META_TABLE, {}).get(str(META_ID), {})
        generation = self._generation + 1
        self.storage.write({**current, META_TABLE: {str(META_ID): {**meta, GENERATION: generation}}})
        self._generation = generation
        self._close_wal()
        if self._wal_size or self.wal_path.exists():
            try:
                self.wal_path.unlink(missing_ok=True)
                self._wal_size, self._wal_torn = 0, False
            except OSError as exc:
                log.warning("%s could not be removed (%s); its lines are of an older generation",
                            self.wal_path, exc)

    def replace(self, dataset: Dataset, next_ids: dict[str, int]) -> None:
        """Make `dataset` the whole state; OSError: nothing changed."""
        tables: dict[str, dict[str, Any]] = {
            name: {str(r[ID_FIELDS[name]]): r for r in getattr(dataset, name)} for name in COLLECTIONS}
        tables[META_TABLE] = {str(META_ID): {"next_ids": dict(next_ids)}}
        self.checkpoint(tables)

    def close(self) -> None:
        """Fold the write-ahead log in, so the file alone holds the state after a clean stop; free the file."""
        try:
            if self._wal_size:
                self.checkpoint()
        except OSError as exc:
            log.warning("checkpoint of %s failed (%s); the write-ahead log keeps every write", self.path, exc)
        finally:
            self.release()

    def release(self) -> None:
        """Free the file for another server, as a killed process would: the write-ahead log is not folded in.

        From then on every write is refused (OSError): a request still running in a stopped server
        must not overwrite what the file's next owner writes.
        """
        self._released = True
        self._close_wal()
        self._lock.release()

    def _check_held(self) -> None:
        if self._released:
            raise OSError(errno.EBADF, f"{self.path} was released when its server stopped")

    def _close_wal(self) -> None:
        if self._wal is not None:
            try:
                os.close(self._wal)
            except OSError:
                pass
            self._wal = None


def _generation(tables: dict[str, dict[str, Any]]) -> int:
    meta = tables.get(META_TABLE, {}).get(str(META_ID), {}) if isinstance(tables.get(META_TABLE), dict) else {}
    generation = meta.get(GENERATION, 0) if isinstance(meta, dict) else 0
    return generation if is_int(generation) else 0


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


def _apply(tables: dict[str, dict[str, Any]], puts: dict[str, list[JSONObject]], deletes: dict[str, list[int]],
           next_ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    for name in COLLECTIONS:
        table = tables.setdefault(name, {})
        for record_id in deletes.get(name, ()):
            table.pop(str(record_id), None)
        for record in puts.get(name, ()):
            table[str(record[ID_FIELDS[name]])] = record
    meta = tables.setdefault(META_TABLE, {}).get(str(META_ID), {})
    meta = meta if isinstance(meta, dict) else {}
    old = meta.get("next_ids", {}) if isinstance(meta.get("next_ids"), dict) else {}
    merged = {name: max(value, old.get(name, 0)) for name, value in next_ids.items()}
    tables[META_TABLE] = {str(META_ID): {**meta, "next_ids": merged}}  # the generation is kept
    return tables
