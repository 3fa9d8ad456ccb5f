"""Checking a backward pass: the numerical gradient (central differences) and the relative error.

The derivative is a limit, ``f'(x) = lim (f(x + e) - f(x - e)) / 2e``. With a small ``e``
(``1e-6``) and float64 arithmetic, the central difference agrees with the exact gradient
to about 1e-9 relative error: a backward pass with a mistake in it (a kernel not flipped,
a missing ``1/N``) is off by 1e-1 or more. It costs two evaluations of ``f`` per input
value, so it checks gradients on small examples; training uses the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TINY = 1e-12  # relative_error's floor: two zero gradients are equal, not 0/0


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    """``df/dx`` by central differences: ``(f(x + eps*e_i) - f(x - eps*e_i)) / (2 eps)`` for every entry ``i``.

    ``f`` maps an array of ``x``'s shape to a number (a loss). ``x`` is copied to float64
    (in float32 the differences would drown in rounding); ``f`` receives the perturbed copy.
    Returns a float64 array of ``x``'s shape.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of one array returning a number, got {type(f).__name__}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a small positive number (e.g. 1e-6), got {eps!r}")
    point = np.array(x, dtype=np.float64)  # a copy: the caller's array is never changed
    if point.size == 0:
        raise ValueError("numerical_gradient needs at least one value to differentiate")
    grad = np.zeros_like(point)
    flat, out = point.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = float(f(point))
        flat[i] = original - eps
        minus = float(f(point))
        flat[i] = original
        out[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """``max|a - b| / max(max(|a| + |b|), tiny)``: 0 for equal arrays, about 1 for unrelated ones.

    Scale-free, so one threshold (1e-6 in float64) serves a gradient of 1e-3 and one of 1e3.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two gradients must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY))


def check_gradient(f: Callable[[np.ndarray], float], gradient, x, eps: float = 1e-6) -> float:
    """The relative error between an analytic ``gradient`` of ``f`` at ``x`` and :func:`numerical_gradient`."""
    return relative_error(gradient, numerical_gradient(f, x, eps))
