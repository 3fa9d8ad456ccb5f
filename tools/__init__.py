"""Course tools: the editions builder and the nbgrader wrapper (``python -m tools.editions``, ``python -m tools.grading``)."""
