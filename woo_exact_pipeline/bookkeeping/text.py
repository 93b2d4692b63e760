"""Text as Exact wants it: clean, within its field lengths, cut without breaking a character.

"Character" means what a reader sees (a grapheme): an emoji family, a flag or an "é" written as
e + combining accent is never cut in half, because half of one renders as garbage in Exact.
"""

from __future__ import annotations

import html
import re
import unicodedata

_CONTROL_OR_SPACE_RUN = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b\u2028\u2029]+")
_ZERO_WIDTH_JOINER = "\u200d"


def clean_text(value: object) -> str:
    """WooCommerce text to one plain line: HTML entities decoded, control characters removed.

    Product names arrive HTML-encoded ("Shirt &ndash; Black"); line breaks and tabs in names
    or addresses would break Exact's one-line fields.
    """
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if "&" in text:
        text = html.unescape(text)
    if text.isprintable() and "  " not in text:
        return text.strip()  # fast path: nothing to replace (most names and addresses)
    return _CONTROL_OR_SPACE_RUN.sub(" ", text).strip()


def _continues_previous(char: str) -> bool:
    """True when `char` belongs to the grapheme before it (so a cut may not fall before it)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == _ZERO_WIDTH_JOINER
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (text/emoji presentation)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters of subdivision flags
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def cut_text(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` characters that ends on a whole grapheme."""
    if len(text) <= limit:
        return text
    end = limit
    while end > 0 and (_continues_previous(text[end]) or text[end - 1] == _ZERO_WIDTH_JOINER):
        end -= 1
    # Flags are pairs of regional indicators; an odd run before the cut means one was split.
    run = 0
    while end - run > 0 and _is_regional_indicator(text[end - run - 1]):
        run += 1
    if run % 2 == 1 and end < len(text) and _is_regional_indicator(text[end]):
        end -= 1
    return text[:end].rstrip()
