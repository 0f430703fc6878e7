"""A record's cached JSON is exactly what json.dumps would answer, and lists are joined from it."""
import json

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.records import SEPARATORS, Record, encode

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12)


@given(st.dictionaries(st.text(), JSON, max_size=8))
def test_cached_json_is_json_dumps(fields):
    record = Record(fields)
    expected = json.dumps(fields, separators=SEPARATORS)
    assert record.to_json() == expected
    assert record.to_json() == expected  # the cached copy
    assert encode([record, Record(fields)]) == json.dumps([fields, fields], separators=SEPARATORS)


def test_plain_values_are_encoded_as_usual():
    assert encode(True) == "true" and encode(3) == "3" and encode([]) == "[]"
    assert encode({"error": "x"}) == '{"error": "x"}'
