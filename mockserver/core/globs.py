"""Path globs (`*`, `?`, `[...]`) as faults and the journal filter use them, matched in time linear in the path.

The semantics are fnmatch's (case-sensitive, `*` crosses `/`, a class read as
`fnmatch.translate` reads it), but not its regular expression, whose
backtracking retries a long piece at every position: `*aaaa...ab*` or
`*a?a?...b*` against a long path took path length x glob length. Here a glob
is split at its stars, and each piece between two stars is found at its
leftmost place (the next star absorbs whatever lies between):

* a literal piece with `str.find` (linear in C);
* a piece with `?` or `[...]`, a fixed-length row of character sets, by the
  shift-and method: one pass over the path, keeping as the bits of one integer
  which prefixes of the piece end at the current character. A character's
  bits come from a table of the piece's sets over ranges of code points
  (membership only changes where a character of the piece lies), built once
  per glob.

So a match costs one pass over the path per piece, each step a few operations
on an integer of at most MAX_GLOB bits; a glob is at most MAX_GLOB characters.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from fnmatch import translate
from functools import lru_cache

MAX_GLOB = 256


class _Piece:
    """A star-free piece of a glob: its literal text, or (when it has `?` or a class) its character sets."""

    def __init__(self, text: str):
        self.text = text
        tokens = _tokens(text)
        self.width = len(tokens)
        self.literal = all(len(token) == 1 and token != "?" for token in tokens)
        if self.literal:
            return
        # Code points where some token's membership may change; between two of them every token agrees.
        self._bounds = sorted({code for token in tokens for char in token for code in (ord(char), ord(char) + 1)})
        representatives = [0, *self._bounds]
        matchers = [_matcher(token) for token in tokens]
        self._masks = [sum(1 << index for index, matches in enumerate(matchers) if matches(chr(code)))
                       for code in representatives]

    def _mask(self, char: str) -> int:
        """Bit i set when the piece's i-th token matches `char`."""
        return self._masks[bisect_right(self._bounds, ord(char))]

    def match_at(self, text: str, pos: int) -> int | None:
        """The end of the piece when it matches `text` at `pos`, else None."""
        if self.literal:
            return pos + self.width if text.startswith(self.text, pos) else None
        if pos + self.width > len(text):
            return None
        for index in range(self.width):
            if not self._mask(text[pos + index]) >> index & 1:
                return None
        return pos + self.width

    def search(self, text: str, pos: int) -> int | None:
        """The end of the piece's leftmost match in `text` at or after `pos`, else None."""
        if self.literal:
            index = text.find(self.text, pos)
            return None if index < 0 else index + self.width
        segment = text[pos:]
        masks = {char: self._mask(char) for char in set(segment)}
        last = 1 << (self.width - 1)
        ends = 0  # bit i: the piece's first i+1 tokens match the characters up to here
        for offset, mask in enumerate(map(masks.__getitem__, segment), pos + 1):
            ends = ((ends << 1) | 1) & mask
            if ends & last:
                return offset
        return None


@lru_cache(maxsize=256)
def _pieces(pattern: str) -> tuple[_Piece, ...]:
    """The glob's pieces between stars."""
    return tuple(_Piece(piece) for piece in _split(pattern))


def glob_matches(text: str, pattern: str) -> bool:
    """Whether `text` matches the glob `pattern` whole (case-sensitive, `*` crosses `/`)."""
    pieces = _pieces(pattern)
    if len(pieces) == 1:
        return pieces[0].match_at(text, 0) == len(text)
    pos = pieces[0].match_at(text, 0)
    if pos is None:
        return False
    for piece in pieces[1:-1]:  # leftmost is enough: the next star absorbs whatever lies between
        pos = piece.search(text, pos)
        if pos is None:
            return False
    start = len(text) - pieces[-1].width
    return start >= pos and pieces[-1].match_at(text, start) == len(text)


def _matcher(token: str) -> Callable[[str], bool]:
    """Whether a character matches one token (a character, `?` or a class), as fnmatch reads it."""
    if token == "?":
        return lambda char: True
    if len(token) == 1:
        return token.__eq__
    return re.compile(translate(token)).match  # type: ignore[return-value]  # a match object is truthy


def _tokens(piece: str) -> list[str]:
    """A star-free piece cut into what each matches one character: a character, `?` or a `[...]` class."""
    tokens, index = [], 0
    while index < len(piece):
        end = _class_end(piece, index) if piece[index] == "[" else -1
        tokens.append(piece[index:end] if end > 0 else piece[index])
        index = end if end > 0 else index + 1
    return tokens


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
