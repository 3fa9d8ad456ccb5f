"""Optimizers and learning-rate schedules from scratch, equal to Keras's ``SGD`` and ``Adam``.

An optimizer turns the gradients into a change of the weights. Each step function below is
pure (new values out, nothing changed in place); the small classes keep the state (velocity,
moments, step count) for a dict of parameters, as a training loop needs it.

- SGD: ``w <- w - lr * g``.
- Momentum: ``v <- mu * v - lr * g``, ``w <- w + v`` (a ball rolling downhill keeps its speed).
- Nesterov: same ``v``, but ``w <- w + mu * v - lr * g`` (look ahead along the velocity).
- Adam: running means of ``g`` and ``g**2``, bias-corrected, give every weight its own step size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def _lr(value, what: str = "learning_rate") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not (
            math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


def _momentum(value) -> float:
    value = _lr(value, "momentum")
    if value >= 1:
        raise ValueError(f"momentum must be in [0, 1) (typical: 0.9), got {value}: at 1 the velocity never decays")
    return value


def _pair(weights, gradient) -> tuple[np.ndarray, np.ndarray]:
    w, g = np.asarray(weights), np.asarray(gradient)
    if w.shape != g.shape:
        raise ValueError(f"the gradient must have the weights' shape {w.shape}, got {g.shape}")
    dtype = np.result_type(w.dtype, g.dtype, np.float32)
    return w.astype(dtype, copy=False), g.astype(dtype, copy=False)


# --------------------------------------------------------------------------- pure steps


def sgd_step(weights, gradient, learning_rate: float) -> np.ndarray:
    """One plain gradient-descent step: ``w - lr * g``."""
    w, g = _pair(weights, gradient)
    return w - _lr(learning_rate) * g


def momentum_step(weights, gradient, velocity, learning_rate: float, momentum: float = 0.9,
                  nesterov: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One SGD-with-momentum step, as ``keras.optimizers.SGD(lr, momentum, nesterov)``: returns ``(w, v)``.

    ``v_new = momentum * v - lr * g``; then ``w + v_new`` (classic) or
    ``w + momentum * v_new - lr * g`` (Nesterov). Start with ``velocity = 0``.
    """
    w, g = _pair(weights, gradient)
    v = np.asarray(velocity, dtype=w.dtype)
    if v.shape != w.shape:
        raise ValueError(f"the velocity must have the weights' shape {w.shape}, got {v.shape}")
    lr, mu = _lr(learning_rate), _momentum(momentum)
    v = mu * v - lr * g
    return (w + mu * v - lr * g if nesterov else w + v), v


def adam_step(weights, gradient, m, v, step: int, learning_rate: float = 1e-3, beta_1: float = 0.9,
              beta_2: float = 0.999, epsilon: float = 1e-7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step (``step`` = 1 for the first), as ``keras.optimizers.Adam``: returns ``(w, m, v)``.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2`` (both start at 0, so early
    on they are too small: bias correction divides by ``1 - b**t``), then
    ``w - lr * m_hat / (sqrt(v_hat) + eps')`` with ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)``. Keras (and this function) computes it as
    ``w - lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``, which is the same with
    ``eps' = eps / sqrt(1 - b2**t)``: only the tiny ``eps`` differs from the textbook form.
    """
    w, g = _pair(weights, gradient)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"step counts the Adam updates from 1, got {step!r}")
    lr = _lr(learning_rate)
    if not (0 <= beta_1 < 1 and 0 <= beta_2 < 1):
        raise ValueError(f"beta_1 and beta_2 must be in [0, 1), got {beta_1}, {beta_2}")
    m = beta_1 * np.asarray(m, dtype=w.dtype) + (1 - beta_1) * g
    v = beta_2 * np.asarray(v, dtype=w.dtype) + (1 - beta_2) * g * g
    alpha = lr * math.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


# --------------------------------------------------------------------------- stateful optimizers


class SGD:
    """Plain, momentum or Nesterov SGD over a dict of parameters, like ``keras.optimizers.SGD``.

    ``opt.step(params, grads)`` updates ``params`` (a dict of arrays) in place and returns it.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        self.learning_rate = _lr(learning_rate)
        self.momentum = _momentum(momentum)
        self.nesterov = bool(nesterov)
        self.velocity: dict[str, np.ndarray] = {}
        self.iterations = 0

    def step(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray],
             learning_rate: float | None = None) -> dict[str, np.ndarray]:
        lr = self.learning_rate if learning_rate is None else _lr(learning_rate)
        _check_names(params, grads)
        for name, grad in grads.items():
            if self.momentum == 0:
                params[name] = sgd_step(params[name], grad, lr)
            else:
                velocity = self.velocity.get(name, np.zeros(np.shape(params[name])))
                params[name], self.velocity[name] = momentum_step(params[name], grad, velocity, lr, self.momentum,
                                                                  self.nesterov)
        self.iterations += 1
        return params


class Adam:
    """Adam over a dict of parameters, like ``keras.optimizers.Adam`` (see :func:`adam_step`)."""

    def __init__(self, learning_rate: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        self.learning_rate = _lr(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.iterations = 0

    def step(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray],
             learning_rate: float | None = None) -> dict[str, np.ndarray]:
        lr = self.learning_rate if learning_rate is None else _lr(learning_rate)
        _check_names(params, grads)
        self.iterations += 1
        for name, grad in grads.items():
            zeros = np.zeros(np.shape(params[name]))
            params[name], self.m[name], self.v[name] = adam_step(
                params[name], grad, self.m.get(name, zeros), self.v.get(name, zeros), self.iterations, lr,
                self.beta_1, self.beta_2, self.epsilon)
        return params


def _check_names(params: Mapping, grads: Mapping) -> None:
    missing = sorted(set(grads) - set(params))
    if missing:
        raise KeyError(f"gradients for unknown parameters {missing}; the parameters are {sorted(params)}")


# --------------------------------------------------------------------------- learning-rate schedules


def step_decay(step: int, initial: float, drop: float = 0.5, every: int = 10) -> float:
    """``initial * drop ** (step // every)``: the learning rate is cut by ``drop`` every ``every`` steps (or epochs)."""
    if step < 0 or every < 1:
        raise ValueError(f"step must be >= 0 and every >= 1, got step={step}, every={every}")
    return _lr(initial, "initial") * float(drop) ** (int(step) // int(every))


def cosine_with_warmup(step: int, total_steps: int, peak: float, warmup_steps: int = 0, start: float = 0.0,
                       final: float = 0.0) -> float:
    """Linear warm-up from ``start`` to ``peak`` over ``warmup_steps``, then cosine decay to ``final``.

    Decay: ``final + (peak - final) * (1 + cos(pi * t / T)) / 2`` with ``t`` the steps since the
    warm-up and ``T = total_steps - warmup_steps``; after ``total_steps`` it stays at ``final``.
    Equals ``keras.optimizers.schedules.CosineDecay(start, T, alpha=final/peak,
    warmup_target=peak, warmup_steps=warmup_steps)`` (as :func:`utils.training.make_schedule` uses).
    """
    if step < 0 or warmup_steps < 0 or total_steps < warmup_steps:
        raise ValueError(f"need 0 <= step and 0 <= warmup_steps <= total_steps, got {step}, {warmup_steps}, {total_steps}")
    peak = _lr(peak, "peak")
    if step < warmup_steps:
        return start + (peak - start) * step / warmup_steps
    decay = max(total_steps - warmup_steps, 1)
    t = min(step - warmup_steps, decay)
    return final + (peak - final) * 0.5 * (1 + math.cos(math.pi * t / decay))
