"""Everything one running mock holds: the store and the test controls around it."""
from __future__ import annotations

from collections.abc import Callable

from ..config import Config
from ..core.clock import Clock
from ..core.errors import InvalidFixture, StorageFailed
from ..core.filestore import TinyDBFile
from ..core.fixtures import Dataset, load_fixtures
from ..core.store import Store, paused_gc
from .faults import Faults
from .journal import Journal
from .rate_limit import RateLimiter
from .session import Session


class Mock:
    """The store, clock, journal, faults and rate limit of one server.

    Raises InvalidFixture when the fixtures or the database file do not load,
    or the database file is in use or cannot be written; nothing is served
    from a half-loaded state, and the file is left free for the next try.
    """

    def __init__(self, config: Config, seed: Dataset | None = None):
        self.config = config
        self.clock = Clock()
        with paused_gc():  # fixtures and database files may hold millions of records
            self.seed = seed if seed is not None else load_fixtures(config.fixtures)
            self.database = TinyDBFile(config.db) if config.db else None
            try:
                state, next_ids = self.seed, None
                self.loaded_from_file = self.database is not None and self.database.exists
                if self.loaded_from_file and self.database is not None:
                    state, next_ids = self.database.load()
                self.store = Store(self.seed, self.clock, self.database, state=state, next_ids=next_ids)
                if self.database is not None and not self.database.exists:
                    self.store.reset()  # a new file starts as a copy of the fixtures
            except StorageFailed as exc:
                if self.database is not None:
                    self.database.release()
                raise InvalidFixture(f"{config.db}: {exc.message}") from None
            except BaseException:
                if self.database is not None:
                    self.database.release()
                raise
        self.journal = Journal(config.journal_size)
        self.faults = Faults()
        self._closers: list[Callable[[], None]] = []
        self.rate_limit = RateLimiter()
        self.session = Session(self.journal, from_file=self.loaded_from_file)
        self.faults.recorder = self.rate_limit.recorder = self.store.recorder = self.session.note

    def changes(self) -> dict[str, int]:
        """Counters that move when something the dashboard shows changes (`GET /__admin/changes`)."""
        return {"state": self.store.version, "requests": self.journal.latest_id,
                "controls": self.faults.version + self.clock.version + self.rate_limit.version,
                "cleared": self.journal.cleared}

    def when_closed(self, action: Callable[[], None]) -> None:
        """Run `action` on close (the serving edge's console, say)."""
        self._closers.append(action)

    def close(self) -> None:
        """On a clean stop: leave the database file whole (its write-ahead log folded in)."""
        for action in self._closers:
            action()
        if self.database is not None:
            self.database.close()

    def reset(self) -> None:
        """Back to the loaded fixtures: data, id sequences, journal, faults, clock and rate limit."""
        self.store.reset()
        self.journal.clear()
        self.faults.reset()
        self.clock.unfreeze()
        self.rate_limit.disable()
        self.session.restart()  # last: it also drops the controls the resets above noted

