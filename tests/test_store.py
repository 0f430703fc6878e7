"""The store on its own: reset undoes exactly what changed, and indexes stay whole."""
import random

from mockserver.core.clock import Clock
from mockserver.core.fixtures import DEFAULT_FIXTURE, load_fixtures
from mockserver.core.store import Store, TouchpointInput


def snapshot(store):
    """Everything a reader can see, through the indexes the API uses."""
    state = store.export()
    views = {}
    for account in (100, 101):
        views[account] = (
            [t["touchpoint_type_id"] for t in store.list_touchpoint_types(account)],
            [m["member_id"] for m in store.list_members(account)],
            {m["member_id"]: [t["touchpoint_id"] for t in store.member_touchpoints(account, m["member_id"])]
             for m in store.list_members(account)},
        )
    return state, views, store.next_ids()


def item(member_id=None, type_id=None, email=None, type_name=None, timestamp=None):
    return TouchpointInput(member_id, email, type_id, type_name, None, None, None, timestamp)


def test_reset_after_random_changes_equals_a_fresh_store():
    seed = load_fixtures(DEFAULT_FIXTURE)
    fresh = snapshot(Store(seed, Clock()))
    store = Store(seed, Clock())
    rng = random.Random(7)
    for round_ in range(30):
        for _ in range(rng.randint(1, 12)):
            action = rng.randrange(7)
            try:
                if action == 0:
                    store.create_touchpoint_type(100, f"t{rng.randrange(50)}", "T")
                elif action == 1:
                    store.update_touchpoint_type(100, rng.choice([200, 300]), f"u{rng.randrange(50)}", "U")
                elif action == 2:
                    store.delete_touchpoint_type(100, rng.choice([200, 300]))
                elif action == 3:
                    store.create_touchpoints(100, [item(member_id=rng.choice([444, 555]), type_id=rng.choice([200, 300]),
                                                        timestamp=f"@D:2025-0{rng.randint(1, 9)}-01T00:00:00")])
                elif action == 4:
                    store.delete_member(100, rng.choice([444, 555]))
                elif action == 5:
                    store.add_member(100, rng.choice(["ann.smith@example.com", "new@example.com"]), {"k": round_})
                else:
                    store.delete_touchpoint(100, rng.randint(1, 12))
            except Exception as error:
                assert type(error).__name__ in ("NotFound", "BadRequest"), error
        store.reset()
        assert snapshot(store) == fresh, f"round {round_}"


def test_reset_after_a_state_upload_rebuilds_from_the_seed():
    seed = load_fixtures(DEFAULT_FIXTURE)
    store = Store(seed, Clock())
    fresh = snapshot(store)
    from mockserver.core.fixtures import Dataset
    store.replace_state(Dataset(accounts=seed.accounts))
    store.reset()
    assert snapshot(store) == fresh


def test_reset_after_two_types_swap_names():
    seed = load_fixtures(DEFAULT_FIXTURE)
    store = Store(seed, Clock())
    fresh = snapshot(store)
    store.update_touchpoint_type(100, 200, "spare", "S")
    store.update_touchpoint_type(100, 300, "purchased_tickets", "P")  # 200's name at the seed
    store.update_touchpoint_type(100, 200, "visited_website", "V")   # 300's name at the seed
    store.reset()
    assert snapshot(store) == fresh
    assert store.create_touchpoints(100, [item(member_id=444, type_name="purchased_tickets")])[0][
        "touchpoint_type_id"] == 200
    assert store.create_touchpoints(100, [item(member_id=444, type_name="visited_website")])[0][
        "touchpoint_type_id"] == 300


def test_the_undo_log_stops_at_its_limit_and_reset_still_restores_the_seed(monkeypatch):
    """A long load test must not grow the undo log without end: past UNDO_LIMIT changed records it is
    dropped (a reset then rebuilds from the seed), and the result is the same."""
    import mockserver.core.store as store_module
    monkeypatch.setattr(store_module, "UNDO_LIMIT", 25)
    seed = load_fixtures(DEFAULT_FIXTURE)
    store = Store(seed, Clock())
    fresh = snapshot(store)
    for n in range(10):
        store.create_touchpoints(100, [item(member_id=444, type_id=300)] * 5)
        store.update_touchpoint_type(100, 200, f"renamed{n}", "R")
    assert store._undo is None
    store.reset()
    assert snapshot(store) == fresh
    store.create_touchpoint_type(100, "after", "A")  # a fresh log after the rebuild
    assert store._undo is not None and len(store._undo) == 1
    store.reset()
    assert snapshot(store) == fresh
