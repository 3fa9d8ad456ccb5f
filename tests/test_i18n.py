"""The course language and the number formats of its two languages (utils/i18n.py)."""

import pytest

from utils import i18n
from utils.i18n import count_phrase, fmt, fmt_number, fmt_percent, needs_de


@pytest.fixture(autouse=True)
def _restore_language():
    before = i18n.get_language()
    yield
    i18n.set_language(before)


def test_tr_follows_the_language():
    i18n.set_language("ro")
    assert i18n.tr("face", "față") == "față"
    i18n.set_language("en")
    assert i18n.tr("face", "față") == "face"
    with pytest.raises(ValueError):
        i18n.set_language("fr")


@pytest.mark.parametrize("x, spec", [(590080, ","), (0.62, ".2f"), (0.623, ".1%"), (3.5e-7, ".1e"), (1234567.891, ",.2f"),
                                     (-0.125, "+.3f"), (42, ""), (0.1234, ".3g")])
def test_english_is_plain_format(x, spec):
    assert fmt(x, spec, "en") == format(x, spec)


@pytest.mark.parametrize("x, spec, expected", [
    (590080, ",", "590.080"), (0.62, ".2f", "0,62"), (0.623, ".1%", "62,3 %"), (1234567.891, ",.2f", "1.234.567,89"),
    (3.5e-7, ".1e", "3,5e-07"), (-0.125, "+.3f", "-0,125"), (35.2, ".1f", "35,2"), (7, ",", "7")])
def test_romanian_separators(x, spec, expected):
    assert fmt(x, spec, "ro") == expected


def test_fmt_number_and_percent():
    assert fmt_number(590080, "en") == "590,080" and fmt_number(590080, "ro") == "590.080"
    assert fmt_number(0.6241, "ro", 2) == "0,62" and fmt_number(0.6241, "en", 2) == "0.62"
    assert fmt_percent(0.623, "ro") == "62,3 %" and fmt_percent(0.623, "en") == "62.3%"
    assert fmt_percent(0.5, "ro", 0) == "50 %"


def test_default_language_is_the_course_language():
    i18n.set_language("ro")
    assert fmt(1000) == "1.000" and count_phrase(20, "fețe") == "20 de fețe"
    i18n.set_language("en")
    assert fmt(1000) == "1,000" and count_phrase(20, "faces") == "20 faces"


@pytest.mark.parametrize("n, de", [(0, False), (1, False), (2, False), (19, False), (20, True), (21, True), (99, True),
                                   (100, True), (101, False), (102, False), (119, False), (120, True), (200, True),
                                   (1000, True), (1001, False), (1019, False), (1020, True), (35887, True),
                                   (28709, False), (7215, False), (436, True), (590080, True), (20.0, True), (2.5, False)])
def test_romanian_de_rule(n, de):
    assert needs_de(n) is de


def test_count_phrase():
    assert count_phrase(20, "fețe", "ro") == "20 de fețe"
    assert count_phrase(101, "fețe", "ro") == "101 fețe"
    assert count_phrase(120, "fețe", "ro") == "120 de fețe"
    assert count_phrase(1000, "parametri", "ro") == "1.000 de parametri"
    assert count_phrase(590080, "parametri", "ro") == "590.080 de parametri"
    assert count_phrase(28709, "fețe", "ro") == "28.709 fețe"
    assert count_phrase(1, "fețe", "ro", singular="față") == "1 față"
    assert count_phrase(2.5, "milioane", "ro", decimals=1) == "2,5 milioane"
    # English is unchanged: the number as format(n, ",") and the noun
    assert count_phrase(590080, "parameters", "en") == "590,080 parameters"
    assert count_phrase(20, "faces", "en") == "20 faces"
    assert count_phrase(1, "faces", "en", singular="face") == "1 face"
