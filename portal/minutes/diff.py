"""A word-level comparison of two texts, for the history of minutes: no Flask in it.

Words are the units: in English, runs of letters and digits; in Korean the eojeol, the run between spaces
(a word with its particles, 회의에서), so a changed particle marks the eojeol and not a single syllable.
Punctuation and whitespace are tokens of their own, so that a changed comma does not mark its word.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s\w]|\w+", re.UNICODE)


@dataclass(frozen=True)
class Piece:
    kind: str   # "same", "removed", "added"
    text: str


def tokens(text: str) -> list[str]:
    """The text cut into words (eojeol), punctuation marks and runs of whitespace; joined, the text again."""
    return _TOKENS.findall(text or "")


def compare(old: str, new: str) -> list[Piece]:
    """The pieces that turn `old` into `new`, in order: unchanged, removed and added runs of tokens."""
    a, b = tokens(old), tokens(new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(b[j1:j2])))
    return pieces
