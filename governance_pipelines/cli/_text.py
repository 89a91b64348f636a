"""User-supplied strings as text listings may show them: nothing forges a line or a name.

A `--user` containing a newline used to print as a second, forged line of `governance
audit log`; a name spelt with a Cyrillic `о` or a zero-width space printed as `bob`.
Listings pass every stored string through `shown` (free text) or `shown_name` (names).
"""

from __future__ import annotations

import unicodedata

# Control, format (zero-width, bidi overrides), line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(character: str) -> str:
    if character in _NAMED:
        return _NAMED[character]
    code = ord(character)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def shown(text: object) -> str:
    """Free text (notes, reasons): invisible and line-breaking characters are escaped."""
    # A backslash is escaped too, so a typed "\\n" can never pass for an escaped newline.
    return "".join(
        _escaped(c) if unicodedata.category(c) in _INVISIBLE or c == "\\" else c for c in str(text)
    )


def shown_name(text: object) -> str:
    """A person's or actor's name: anything outside printable ASCII is escaped, so a
    look-alike (`bоb` with a Cyrillic о) can never pass for `bob` on screen."""
    return "".join(c if " " < c < "\x7f" else _escaped(c) for c in str(text))
