"""Interactive explorers for the lessons: the only part of ``utils`` that imports ipywidgets.

One submodule per lesson topic. Every explorer is built by a function that returns the
widget to ``display`` and keeps its controls as attributes, so a test can set a control's
value from Python and check that the displayed output changed (browsers are not needed:
traitlets observers run in the kernel). Images are shown through ``ipywidgets.Image``
whose PNG bytes are replaced on each change, which is far faster than redrawing a
matplotlib figure.

Lessons 01 to 04 each use the explorers of their submodule.
"""
