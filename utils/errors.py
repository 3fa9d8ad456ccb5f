"""The root of the course's errors: ``except CourseError`` catches every one of them.

A leaf module (it imports nothing of the project). Each module defines its own error
(:class:`utils.data.DataError`, :class:`utils.models.ModelError`, ...) under this root,
so a command line can report any of them as one clear message instead of a traceback.
"""


class CourseError(Exception):
    """An input or a state the course cannot use; the message says what is wrong and what to do."""


__all__ = ["CourseError"]
