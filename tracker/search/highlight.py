"""Matches marked in context: the text is escaped first, then ``<mark>`` is put around each
occurrence of a term, so user text never reaches a page unescaped."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

CONTEXT = 30  # characters shown before the first match
WIDTH = 120  # characters in a snippet at most


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in alternatives), re.IGNORECASE)


def contains(text: str | None, terms: tuple[str, ...]) -> bool:
    """Does ``text`` hold any of the terms (as the search matched them)?"""
    return bool(text) and _pattern(terms).search(text or "") is not None


def mark(text: str, terms: tuple[str, ...]) -> Markup:
    """``text`` escaped, every occurrence of a term wrapped in ``<mark>``."""
    pattern = _pattern(terms)
    parts: list[Markup] = []
    last = 0
    for found in pattern.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(Markup("<mark>%s</mark>") % found.group())
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def snippet(text: str | None, terms: tuple[str, ...]) -> Markup | None:
    """A window of ``text`` around its first match, marked; None when nothing matches."""
    if not text:
        return None
    found = _pattern(terms).search(text)
    if found is None:
        return None
    start = max(0, found.start() - CONTEXT)
    end = min(len(text), max(start + WIDTH, found.end()))
    window = " ".join(text[start:end].split())
    prefix = "……" if start > 0 else ""
    suffix = "……" if end < len(text) else ""
    return escape(prefix) + mark(window, terms) + escape(suffix)
