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
