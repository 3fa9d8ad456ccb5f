"""Gradient descent on two-parameter losses, to *see* the learning rate and momentum at work.

A network has millions of weights; with two, the loss is a surface over the plane and a
training run is a path on it. :func:`descent_path` returns that path for a learning rate,
a number of steps and a momentum: too small a rate crawls, a good one converges, too
large a one oscillates and diverges (``lr > 2 / curvature`` on a quadratic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from utils.layers.optim import _lr, _momentum


@dataclass(frozen=True)
class Surface:
    """A 2-parameter loss ``f(w)`` with its gradient, a starting point, its minimum and a box to plot."""

    name: str
    loss: Callable[[np.ndarray], np.ndarray]        # (..., 2) -> (...)
    gradient: Callable[[np.ndarray], np.ndarray]    # (2,) -> (2,)
    start: tuple[float, float]
    minimum: tuple[float, float]
    box: tuple[float, float, float, float]          # x_min, x_max, y_min, y_max


def _bowl(w):
    w = np.asarray(w, dtype=np.float64)
    return 0.5 * (w[..., 0] ** 2 + w[..., 1] ** 2)


def _valley(w):  # elongated: curvature 1 along x, 10 along y
    w = np.asarray(w, dtype=np.float64)
    return 0.5 * (w[..., 0] ** 2 + 10.0 * w[..., 1] ** 2)


def _rosenbrock(w):
    w = np.asarray(w, dtype=np.float64)
    return (1 - w[..., 0]) ** 2 + 10.0 * (w[..., 1] - w[..., 0] ** 2) ** 2


SURFACES: dict[str, Surface] = {
    "bowl": Surface("bowl", _bowl, lambda w: np.array([w[0], w[1]], dtype=np.float64),
                    (-4.0, 3.0), (0.0, 0.0), (-5.0, 5.0, -5.0, 5.0)),
    "valley": Surface("valley", _valley, lambda w: np.array([w[0], 10.0 * w[1]], dtype=np.float64),
                      (-4.5, 1.5), (0.0, 0.0), (-5.0, 5.0, -2.5, 2.5)),
    "rosenbrock": Surface("rosenbrock", _rosenbrock, lambda w: np.array(
        [-2 * (1 - w[0]) - 40.0 * w[0] * (w[1] - w[0] ** 2), 20.0 * (w[1] - w[0] ** 2)], dtype=np.float64),
        (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0)),
}
"""``bowl``: ``(x² + y²)/2``; ``valley``: ``(x² + 10 y²)/2`` (a long narrow valley);
``rosenbrock``: ``(1 - x)² + 10 (y - x²)²`` (a curved valley, minimum at (1, 1))."""


def surface(name: str | Surface) -> Surface:
    """A :data:`SURFACES` entry by name (a :class:`Surface` is returned as is)."""
    if isinstance(name, Surface):
        return name
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; choose one of {sorted(SURFACES)}")
    return SURFACES[name]


def descent_path(loss_surface: str | Surface = "valley", learning_rate: float = 0.1, steps: int = 50,
                 momentum: float = 0.0, nesterov: bool = False, start=None, limit: float = 1e6) -> np.ndarray:
    """The points ``w_0, w_1, ..., w_steps`` of gradient descent (with optional momentum): ``(steps + 1, 2)``.

    ``v <- momentum * v - lr * grad(w)``, ``w <- w + v`` (Nesterov: ``w <- w + momentum * v - lr * grad(w)``),
    exactly :func:`utils.layers.optim.momentum_step`; ``momentum=0`` is plain ``w <- w - lr * grad(w)``.
    A path that diverges (a coordinate beyond ``limit``, or not finite) stops there: it may
    have fewer than ``steps + 1`` points.
    """
    chosen = surface(loss_surface)
    lr, mu = _lr(learning_rate), _momentum(momentum)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    w = np.array(chosen.start if start is None else start, dtype=np.float64)
    if w.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got {start!r}")
    v = np.zeros(2)
    points = [w.copy()]
    for _ in range(int(steps)):
        g = chosen.gradient(w)
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
        if not np.isfinite(w).all() or np.abs(w).max() > limit:
            break
        points.append(w.copy())
    return np.array(points)


def path_losses(loss_surface: str | Surface, path) -> np.ndarray:
    """The loss at every point of a path ``(n, 2)``: what a loss curve would show."""
    return surface(loss_surface).loss(np.asarray(path, dtype=np.float64))
