"""The course language: every lesson exists in English and Romanian.

Theory cells carry their language in cell tags; code cells are shared, so the
few strings that code shows (plot titles, widget labels) pick their language here.

Every lesson's language cell calls :func:`set_language` (lessons/README.md, the bilingual conventions).
"""

import os

LANGUAGES = ("en", "ro")

_language = os.environ.get("COURSE_LANG", "en") if os.environ.get("COURSE_LANG", "en") in LANGUAGES else "en"


def set_language(language: str) -> str:
    """Choose the language of plot titles and widget labels ('en' or 'ro')."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    _language = language
    return _language


def get_language() -> str:
    """The language chosen with :func:`set_language` (default: $COURSE_LANG, else 'en')."""
    return _language


def tr(en: str, ro: str) -> str:
    """Return the text in the chosen language: ``tr("Original", "Original")``."""
    return ro if _language == "ro" else en


# --------------------------------------------------------------------------- numbers

def _lang(lang: str | None) -> str:
    lang = _language if lang is None else lang
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    return lang


_SWAP_SEPARATORS = str.maketrans({",": ".", ".": ","})


def fmt(x, spec: str = ",", lang: str | None = None) -> str:
    """``format(x, spec)`` written the way ``lang`` writes numbers (default: the course language).

    English is exactly ``format(x, spec)`` ("590,080", "0.62", "62.3%"). Romanian swaps the
    separators, thousands with a dot and decimals with a comma, and puts a space before a
    percent sign: ``fmt(590080)`` -> "590.080", ``fmt(0.62, ".2f")`` -> "0,62",
    ``fmt(0.623, ".1%")`` -> "62,3 %", ``fmt(3.5e-7, ".1e")`` -> "3,5e-07".
    """
    text = format(x, spec)
    if _lang(lang) == "en":
        return text
    text = text.translate(_SWAP_SEPARATORS)
    return text[:-1] + " %" if text.endswith("%") else text


def fmt_number(x, lang: str | None = None, decimals: int = 0) -> str:
    """``x`` with thousands separators and ``decimals`` decimals: "1,234.5" (en), "1.234,5" (ro)."""
    return fmt(x, f",.{decimals}f", lang)


def fmt_percent(fraction, lang: str | None = None, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.623 -> "62.3%" (en), "62,3 %" (ro)."""
    return fmt(fraction, f",.{decimals}%", lang)


def needs_de(n) -> bool:
    """Romanian grammar: does "de" come between the number ``n`` and its noun?

    "de" follows a whole number whose last two digits make 0 or 20-99, from 20 on:
    "19 fețe", "20 de fețe", "101 fețe", "120 de fețe", "200 de fețe", "1.000 de parametri".
    A number with decimals takes no "de" ("2,5 milioane").
    """
    if isinstance(n, float) and not n.is_integer():
        return False
    n = abs(int(n))
    return n >= 20 and (n % 100 == 0 or n % 100 >= 20)


def count_phrase(n, noun: str, lang: str | None = None, decimals: int = 0, singular: str | None = None) -> str:
    """A number and its noun in ``lang``: "590,080 parameters" (en), "590.080 de parametri" (ro).

    ``noun`` is the plural in ``lang``; ``singular`` (optional) is used when ``n`` is 1.
    English: "20 faces"; Romanian: "19 fețe", "20 de fețe", "101 fețe", "1.000 de parametri".
    """
    lang = _lang(lang)
    number = fmt_number(n, lang, decimals)
    if singular is not None and n == 1:
        return f"{number} {singular}"
    if lang == "ro" and decimals == 0 and needs_de(n):
        return f"{number} de {noun}"
    return f"{number} {noun}"
