"""Lesson 05's graded exercises: references and the checks a test cell runs.

Same rules as :mod:`utils.backward_exercises`: each ``check_*`` calls the student's function on
several cases (arguments as arrays *and* as lists), accepts every correct form of the answer
(list, tuple or array; Python or numpy numbers; within the stated tolerance), names the classic
wrong answer when it sees it, and ``hidden=True`` adds the cases a hidden test block keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from utils.by_hand import guarded
from utils.calibration import apply_temperature, expected_calibration_error, fit_temperature, negative_log_likelihood
from utils.i18n import count_phrase, fmt, tr

TOLERANCE = 1e-9
TEMPERATURE_TOLERANCE = 0.02     # relative: a grid of step 0.01 near T = 1 is precise enough


# --------------------------------------------------------------------------- references


def receptive_fields(kernels: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Reference: ``r_l = r_{l-1} + (k_l - 1) * prod(s_1 .. s_{l-1})``, with ``r_0 = 1``."""
    fields, r, jump = [], 1, 1
    for kernel, stride in zip(kernels, strides):
        r += (int(kernel) - 1) * jump
        jump *= int(stride)
        fields.append(r)
    return fields


def grad_cam_channel_weights(gradients) -> np.ndarray:
    """Reference: ``alpha_k`` = the mean of ``dy_c/dA^k`` over the positions of a ``(H, W, K)`` gradient."""
    return np.asarray(gradients, dtype=np.float64).mean(axis=(0, 1))


# --------------------------------------------------------------------------- checks


def _numbers(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(tr(f"{what} must be numbers (an array or a list), got {type(value).__name__}: {error}",
                                f"{what} trebuie să conțină numere (un tablou sau o listă); s-a primit {type(value).__name__}: {error}")) from None
    if shape is not None:
        assert array.shape == tuple(shape), tr(f"{what} should have shape {tuple(shape)}, got {array.shape}",
                                               f"{what} ar trebui să aibă forma {tuple(shape)}, nu {array.shape}")
    assert np.isfinite(array).all(), tr(f"{what} contains NaN or infinite values", f"{what}: unele valori sunt NaN sau infinite")
    return array


def _listed(values) -> str:
    """Numbers for a Romanian message: "[3, 5, 10]", with decimal commas and semicolons between: "[3; 5,5]"."""
    values = [float(v) for v in values]
    separator = "; " if any(not v.is_integer() for v in values) else ", "
    return "[" + separator.join(fmt(v, "g") for v in values) + "]"


def _forms(*arrays):
    """The same arguments as arrays and as nested lists."""
    yield arrays
    yield tuple(a.tolist() if isinstance(a, np.ndarray) else a for a in arrays)


def _random_predictions(rng: np.random.Generator, n: int, classes: int = 7, sharpness: float = 2.0):
    logits = rng.normal(size=(n, classes)) * sharpness
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(classes, p=row) for row in p])
    return p, labels


def check_receptive_fields(student: Callable, hidden: bool = False) -> None:
    """``student(kernels, strides)`` must return the receptive field side after each layer of the stack."""
    cases = [([3, 3], [1, 1]), ([3, 3, 2], [1, 1, 2]), ([3, 3, 2, 3, 3, 2], [1, 1, 2, 1, 1, 2])]
    if hidden:
        cases += [([5], [1]), ([7, 3, 3], [2, 1, 1]), ([3, 2] * 4 + [3], [1, 2] * 4 + [1]), ([1, 1], [1, 1])]
    for kernels, strides in cases:
        expected = receptive_fields(kernels, strides)
        for args in (
            (kernels, strides),
            (np.array(kernels), np.array(strides)),
            (tuple(kernels), tuple(strides)),
        ):
            result = _numbers(student(*args), tr("the receptive fields", "câmpurile receptive"), (len(kernels),))
            no_jump = np.cumsum([k - 1 for k in kernels]) + 1
            if not np.array_equal(no_jump, expected) and np.array_equal(result, no_jump):
                raise AssertionError(tr("the fields grow by (k - 1) only: multiply by the product of the strides "
                                        "of the layers *before* this one (the jump)",
                                        "câmpurile cresc doar cu (k - 1): înmulțiți cu produsul pașilor straturilor "
                                        "*dinaintea* acestuia (saltul)"))
            with_own = []
            r, jump = 1, 1
            for kernel, stride in zip(kernels, strides):
                jump *= stride
                r += (kernel - 1) * jump
                with_own.append(r)
            if not np.array_equal(with_own, expected) and np.array_equal(result, with_own):
                raise AssertionError(tr("a layer's own stride was counted in its jump: only the strides of the "
                                        "layers before it count",
                                        "pasul propriu al unui strat a intrat în saltul lui: contează doar pașii "
                                        "straturilor dinaintea lui"))
            assert np.array_equal(result, expected), tr(
                f"kernels {kernels}, strides {strides}: expected {expected}, got {result.tolist()}",
                f"nucleele {_listed(kernels)}, pașii {_listed(strides)}: se aștepta {_listed(expected)}, s-a obținut {_listed(result)}")


def check_grad_cam_weights(student: Callable, hidden: bool = False) -> None:
    """``student(gradients)`` for a ``(H, W, K)`` gradient must return the ``K`` channel weights ``alpha_k``."""
    rng = np.random.default_rng(2027)
    cases = [np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3), rng.normal(size=(3, 3, 8))]
    if hidden:
        cases += [rng.normal(size=(6, 6, 128)), rng.normal(size=(1, 1, 5)), rng.normal(size=(4, 5, 2)) * 1e3]
    for gradients in cases:
        expected = grad_cam_channel_weights(gradients)
        h, w, k = gradients.shape
        for (args,) in _forms(gradients):
            result = _numbers(student(args), tr("the channel weights", "ponderile canalelor"), (k,))
            if h * w > 1 and np.allclose(result, expected * h * w, rtol=1e-7):
                raise AssertionError(tr("these are sums over the positions: alpha_k is their *mean* (divide by H·W)",
                                        "acestea sunt sume pe poziții: alpha_k este *media* lor (împărțiți la H·W)"))
            assert np.allclose(result, expected, rtol=1e-7, atol=TOLERANCE), \
                tr(f"{gradients.shape} gradient: expected the mean over the H x W positions of each channel",
                   f"gradientul {gradients.shape}: se aștepta media pe cele H x W poziții ale fiecărui canal")


def check_expected_calibration_error(student: Callable, hidden: bool = False) -> None:
    """``student(probabilities, labels, n_bins)`` must return the ECE with equal-width confidence bins."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (expected_calibration_error,), "expected_calibration_error")
    rng = np.random.default_rng(2028)
    right = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    cases = [(right, np.array([0, 0, 1, 1]), 10), (*_random_predictions(rng, 200), 15)]
    if hidden:
        cases += [(*_random_predictions(rng, 1000, sharpness=4.0), 10), (*_random_predictions(rng, 57), 5),
                  (np.full((6, 3), 1 / 3), np.array([0, 1, 2, 0, 1, 2]), 10)]
    for probabilities, labels, n_bins in cases:
        expected = expected_calibration_error(probabilities, labels, n_bins)
        for args in _forms(probabilities, labels, n_bins):
            result = float(_numbers(student(*args), tr("the ECE", "ECE-ul"), ()))
            unweighted = _unweighted_ece(probabilities, labels, n_bins)
            if not np.isclose(unweighted, expected) and np.isclose(result, unweighted):
                raise AssertionError(tr("each bin counted equally: weight each bin's |accuracy - confidence| "
                                        "by its share of the predictions",
                                        "fiecare interval a contat la fel: ponderați |acuratețe - încredere| al fiecărui "
                                        "interval cu proporția lui din predicții"))
            assert np.isclose(result, expected, atol=1e-9), tr(
                f"{len(labels)} predictions, {n_bins} bins: expected {expected:.6f}, got {result:.6f}",
                f"{count_phrase(len(labels), 'predicții', singular='predicție')}, "
                f"{count_phrase(n_bins, 'intervale', singular='interval')}: "
                f"se aștepta {fmt(expected, '.6f')}, s-a obținut {fmt(result, '.6f')}")


def _unweighted_ece(probabilities, labels, n_bins: int) -> float:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    gaps = [abs(correct[index == b].mean() - confidence[index == b].mean()) for b in range(n_bins) if np.any(index == b)]
    return float(np.mean(gaps))


def check_fit_temperature(student: Callable, hidden: bool = False) -> None:
    """``student(probabilities, labels)`` must return the T > 0 that minimises the NLL, within 2 %."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (fit_temperature,), "fit_temperature")
    rng = np.random.default_rng(2029)
    cases = [_random_predictions(rng, 300, sharpness=4.0)]            # sharp logits, labels drawn from them: T near 1
    over, labels = _random_predictions(rng, 400, sharpness=1.0)
    cases.append((_sharpened(over, 3.0), labels))                     # over-confident: T > 1
    if hidden:
        under, labels = _random_predictions(rng, 400, sharpness=3.0)
        mild, mild_labels = _random_predictions(rng, 150)
        cases += [(_sharpened(under, 0.5), labels), (_sharpened(mild, 1.7), mild_labels)]
    for probabilities, labels in cases:
        expected = fit_temperature(probabilities, labels)
        for args in _forms(probabilities, labels):
            result = float(_numbers(student(*args), tr("the temperature", "temperatura"), ()))
            assert result > 0, tr(f"a temperature must be positive, got {result}",
                                  f"o temperatură trebuie să fie pozitivă, s-a obținut {fmt(result, '')}")
            if abs(result - expected) <= TEMPERATURE_TOLERANCE * expected:
                continue
            if abs(1 / result - expected) <= TEMPERATURE_TOLERANCE * expected:
                raise AssertionError(tr("this is 1/T: the scaled probabilities are softmax(log p / T)",
                                        "ați întors 1/T: probabilitățile scalate sunt softmax(log p / T)"))
            nll_expected, nll_yours = _nll_at(probabilities, labels, expected), _nll_at(probabilities, labels, result)
            raise AssertionError(tr(f"T = {result:.3f} is not the minimum of the NLL (expected about {expected:.3f}; "
                                    f"NLL there {nll_expected:.4f}, at yours {nll_yours:.4f})",
                                    f"T = {fmt(result, '.3f')} nu este minimul log-verosimilității negative (NLL) "
                                    f"(se aștepta în jur de {fmt(expected, '.3f')}; NLL acolo {fmt(nll_expected, '.4f')}, "
                                    f"la T-ul vostru {fmt(nll_yours, '.4f')})"))


def _sharpened(probabilities: np.ndarray, power) -> np.ndarray:
    """``softmax(power * log p)``: over-confident when power > 1, under-confident below."""
    logits = power * np.log(probabilities)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _nll_at(probabilities, labels, temperature: float) -> float:
    return negative_log_likelihood(apply_temperature(probabilities, temperature), labels)


__all__ = ["check_expected_calibration_error", "check_fit_temperature", "check_grad_cam_weights",
           "check_receptive_fields", "grad_cam_channel_weights", "receptive_fields"]
