"""Path globs (`*`, `?`, `[...]`) as faults and the journal filter use them, matched in linear-ish time.

`fnmatch` turns a glob into a regular expression whose lazy `.*?` retries a
long literal at every position: `*aaaa...ab*` against a long path is
quadratic. Here a glob is split at its stars; literal pieces are found with
`str.find` (linear), the rest with a small regex per piece, and a glob is at
most MAX_GLOB characters.
"""
from __future__ import annotations

import re
from fnmatch import translate
from functools import lru_cache

MAX_GLOB = 256


@lru_cache(maxsize=256)
def _pieces(pattern: str) -> tuple[tuple[str, re.Pattern[str] | None], ...]:
    """The glob's pieces between stars: (text, None) when literal, else (text, its regex)."""
    pieces: list[tuple[str, re.Pattern[str] | None]] = []
    for piece in _split(pattern):
        if "?" in piece or "[" in piece:
            body = translate(piece)  # "(?s:...)\Z"
            pieces.append((piece, re.compile(body[:-2])))
        else:
            pieces.append((piece, None))
    return tuple(pieces)


def _match_at(text: str, pos: int, piece: tuple[str, re.Pattern[str] | None]) -> int | None:
    literal, regex = piece
    if regex is None:
        return pos + len(literal) if text.startswith(literal, pos) else None
    found = regex.match(text, pos)
    return found.end() if found else None


def _search(text: str, pos: int, piece: tuple[str, re.Pattern[str] | None]) -> int | None:
    literal, regex = piece
    if regex is None:
        index = text.find(literal, pos)
        return None if index < 0 else index + len(literal)
    found = regex.search(text, pos)
    return found.end() if found else None


def glob_matches(text: str, pattern: str) -> bool:
    """Whether `text` matches the glob `pattern` whole (case-sensitive, `*` crosses `/`)."""
    pieces = _pieces(pattern)
    if len(pieces) == 1:
        return _match_at(text, 0, pieces[0]) == len(text)
    pos = _match_at(text, 0, pieces[0])
    if pos is None:
        return False
    for piece in pieces[1:-1]:  # leftmost is enough: the next star absorbs whatever lies between
        pos = _search(text, pos, piece)
        if pos is None:
            return False
    literal, regex = pieces[-1]
    start = len(text) - (len(literal) if regex is None else _width(literal))
    return start >= pos and _match_at(text, start, pieces[-1]) == len(text)


def _class_end(pattern: str, index: int) -> int:
    """Index just past the `[...]` class opening at `index`, or -1 when unclosed (then '[' is literal).

    The same reading as fnmatch.translate: a leading `!` and then a leading `]` belong to the class.
    """
    end = index + 1
    if end < len(pattern) and pattern[end] == "!":
        end += 1
    if end < len(pattern) and pattern[end] == "]":
        end += 1
    end = pattern.find("]", end)
    return -1 if end < 0 else end + 1


def _split(pattern: str) -> list[str]:
    """The glob cut at each star outside a class."""
    pieces: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            pieces.append("".join(current))
            current = []
            index += 1
            continue
        end = _class_end(pattern, index) if char == "[" else -1
        current.append(pattern[index:end] if end > 0 else char)
        index = end if end > 0 else index + 1
    pieces.append("".join(current))
    return pieces


def _width(piece: str) -> int:
    """How many characters a star-free piece matches: one per `?`, `[...]` or other character."""
    index, width = 0, 0
    while index < len(piece):
        end = _class_end(piece, index) if piece[index] == "[" else -1
        index = end if end > 0 else index + 1
        width += 1
    return width
