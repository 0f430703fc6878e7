"""Text bound for a terminal (the CLI's banner and console, capture and verify): nothing in it acts on the terminal."""
from __future__ import annotations


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal could act on written as a Python escape (`\\x1b`, `\\n`,
    `\\u202e`): control characters (C0, DEL, C1, so no escape sequence), line and paragraph separators,
    bidirectional and other format characters; backslashes doubled, so an escape cannot be forged."""
    if text.isprintable() and "\\" not in text:
        return text  # the usual line: nothing to do
    return "".join(char if char.isprintable() and char != "\\" else char.encode("unicode_escape").decode("ascii")
                   for char in text)
