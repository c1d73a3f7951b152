"""Texts kept in both languages as `<field>_ko` / `<field>_en` pairs (Korean authoritative).

A model or plain record declares `name = bilingual("name")` and gets the method `name(language)`: the
Korean text for "ko", the English one for any other language. One rule, so no class picks its own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def pick(language: str, ko: str, en: str) -> str:
    """Korean for "ko", English otherwise (the portal's second language is English)."""
    return ko if language == "ko" else en


def bilingual(field: str) -> Callable[[object, str], str]:
    """The method `field(language)` of a class holding `<field>_ko` and `<field>_en`."""
    ko, en = f"{field}_ko", f"{field}_en"

    def in_language(self, language: str) -> str:
        return pick(language, getattr(self, ko), getattr(self, en))

    in_language.__name__ = field
    in_language.__doc__ = f"`{ko}` or `{en}` by `language`."
    return in_language


@dataclass(frozen=True)
class Bilingual:
    """A text in both languages, as plain data (document contexts, labels)."""

    ko: str
    en: str

    def in_language(self, language: str) -> str:
        return pick(language, self.ko, self.en)

    def both(self, separator: str = " / ") -> str:
        """Korean first, then English: how documents print a bilingual name."""
        return self.ko if self.ko == self.en else f"{self.ko}{separator}{self.en}"
