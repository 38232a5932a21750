"""Text a person typed, made fit to store, show and mail: control characters go where the text enters.

A vertical tab pasted from a slide, a form feed or a NUL is invisible on screen but fatal further on:
MJML is XML, and XML 1.0 (§2.2, the ``Char`` production) allows no C0 control but TAB, LF and CR,
nor U+FFFE, U+FFFF or a lone surrogate, so the mail renderer refuses the whole digest. C1 controls
(U+0080–U+009F) and DEL are allowed there but "discouraged" (same section), and no editor means
one. So every editor-typed field (forms, the JSON API, the CLI) passes ``clean_text`` on its way
in, and ``checked_text`` refuses, naming the field, what still does not fit.
"""

from __future__ import annotations

import re

from services.core.errors import InvalidInput

#: Characters nobody types on purpose: C0 controls but TAB, LF and CR, DEL, C1 controls, the
#: non-characters U+FFFE and U+FFFF, and lone surrogates.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
#: The line boundaries of ``str.splitlines``: CR LF, CR, LF, VT (a slide's soft line break), FF,
#: the file, group and record separators, NEL, and the Unicode line and paragraph separators.
LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: Bidirectional formatting characters (Unicode UAX #9 §2.1–2.6): embeddings and overrides U+202A–U+202E,
#: isolates U+2066–U+2069, and the marks U+200E, U+200F and U+061C. In a name or a URL they make the text
#: display as other text ("Trojan Source", CVE-2021-42574), so those fields refuse them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
#: In a single-line field a run of spaces, tabs and (by then) LFs is one space.
SINGLE_LINE_BLANKS = re.compile("[ \t\n]+")


def without_controls(text: str) -> str:
    """``text`` without ``CONTROLS``: TAB, LF and CR stay, and everything else that is not a control."""
    return CONTROLS.sub("", text)


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` as it should be stored: without ``CONTROLS`` and without blanks around it.

    In a multi-line field every line break (``LINE_BREAKS``: a vertical tab or form feed too) becomes
    LF and tabs stay; in a single-line field each run of spaces, tabs and line breaks becomes one
    space. Rule: XML 1.0 §2.2 (see the module's docstring).
    """
    value = without_controls(LINE_BREAKS.sub("\n", value))
    if not multiline:
        value = SINGLE_LINE_BLANKS.sub(" ", value)
    return value.strip()


def without_bidi(value: str, *, field: str, refuse: type[InvalidInput] = InvalidInput) -> str:
    """``value`` unchanged when it holds none of ``BIDI_CONTROLS``.

    Raises ``refuse`` naming ``field`` and the first such character's code point. Rule: UAX #9 (see
    ``BIDI_CONTROLS``).
    """
    found = BIDI_CONTROLS.search(value)
    if found:
        raise refuse(f"the {field} holds a bidirectional control character (U+{ord(found.group()):04X}), "
                     "which would make it display as other text")
    return value


def checked_text(value: str | None, *, field: str, max_length: int | None, multiline: bool = False,
                 required: bool = False, plain: bool = False, refuse: type[InvalidInput] = InvalidInput) -> str:
    """``clean_text(value)`` ("" for None), checked: at most ``max_length`` characters (None: no limit).

    Raises ``refuse`` (the caller's package error, an ``InvalidInput``) naming ``field`` when the
    cleaned value is longer than ``max_length``, or empty while ``required``, or, for a ``plain``
    field (a name, a URL), holds a bidirectional control (``without_bidi``).
    """
    text = clean_text(value or "", multiline=multiline)
    if plain:
        without_bidi(text, field=field, refuse=refuse)
    if required and not text:
        raise refuse(f"the {field} cannot be empty")
    if max_length is not None and len(text) > max_length:
        raise refuse(f"the {field} is {len(text)} characters long; at most {max_length} fit")
    return text
