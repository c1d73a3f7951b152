"""Kinds of documents. Each domain registers its own at import (`register_kind`), with its name in both
languages: documents print both, pages pick one."""
from __future__ import annotations

from dataclasses import dataclass

from portal.core.bilingual import pick


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document with its name in both languages."""

    code: str
    ko: str
    en: str

    def label(self, language: str) -> str:
        return pick(language, self.ko, self.en)


KINDS: dict[str, DocumentKind] = {}


def register_kind(code: str, ko: str, en: str) -> DocumentKind:
    """Declare a kind of document once (its domain does, at import). Re-declaring the same is harmless."""
    kind = DocumentKind(code, ko, en)
    if KINDS.get(code, kind) != kind:
        raise ValueError(f"document kind {code!r} is already declared differently")
    KINDS[code] = kind
    return kind


def kind_of(code: str) -> DocumentKind:
    """The registered kind, or one named by its code (a document of a kind no domain declares any more)."""
    return KINDS.get(code) or DocumentKind(code, code, code)


class DocumentError(Exception):
    """The document could not be issued (rendering, signing or storing failed); nothing was recorded."""


class DocumentRenderError(DocumentError):
    pass


class UnsafeContext(DocumentError, TypeError):
    """A template context held something other than plain data (an ORM object, a module, a function)."""
