"""Exercises written by hand: the course's own function is switched off while a hidden test runs.

The lessons import the library's reference functions (``correlate2d``, ``softmax``, ...) to show
them at work, so a student could hand in ``def my_softmax(z): return softmax(z)``. The checks of
those exercises run the student's function inside :func:`written_by_hand`: every name in the
student's namespace (the notebook's globals) that is bound to one of the references, directly
or as an attribute of a module the notebook imported, answers with a clear ``AssertionError``
until the check is over. The checks themselves still use the references (their own imports are
not touched), and nothing is left patched afterwards, even when the check fails.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from utils.i18n import tr


class UsedTheLibrary(AssertionError):
    """The student's function called the course's own version of what it should compute."""


def _stub(name: str, exercise: str) -> Callable:
    def switched_off(*args, **kwargs):
        raise UsedTheLibrary(tr(
            f"{exercise}: write it yourself, without the course's `{name}` (it is switched off while this test runs).",
            f"{exercise}: scrieți funcția voi, fără `{name}` din bibliotecă (este oprită cât rulează acest test)."))
    switched_off.__name__ = name
    return switched_off


@contextmanager
def written_by_hand(student: Callable, references: tuple[Callable, ...], exercise: str) -> Iterator[None]:
    """Within the block, ``student`` cannot reach any of ``references`` through its globals."""
    namespace = getattr(student, "__globals__", None)
    if namespace is None or not references:
        yield
        return
    defining = {reference.__module__ for reference in references}
    saved: list[tuple[object, str, object]] = []
    try:
        for name, value in list(namespace.items()):
            for reference in references:
                if value is reference:
                    saved.append((namespace, name, value))
                    namespace[name] = _stub(reference.__name__, exercise)
            if isinstance(value, types.ModuleType) and value.__name__ not in defining:
                for reference in references:
                    attribute = reference.__name__
                    if getattr(value, attribute, None) is reference:
                        saved.append((value, attribute, reference))
                        setattr(value, attribute, _stub(attribute, exercise))
        yield
    finally:
        for owner, name, value in reversed(saved):
            if isinstance(owner, dict):
                owner[name] = value
            else:
                setattr(owner, name, value)


__all__ = ["UsedTheLibrary", "guarded", "written_by_hand"]


def guarded(student: Callable, references: tuple[Callable, ...], exercise: str) -> Callable:
    """``student``, called each time inside :func:`written_by_hand` (what the hidden checks run)."""
    def call(*args, **kwargs):
        with written_by_hand(student, references, exercise):
            return student(*args, **kwargs)
    call.__wrapped__ = student
    return call
