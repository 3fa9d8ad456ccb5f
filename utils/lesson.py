"""Conveniences for the lessons only: steps that speak to the student in full sentences.

The library modules (:mod:`utils.models`, :mod:`utils.training`, ...) return numbers and
raise errors; the sentences a lesson prints about them, in the course language, live
here. :func:`load_shipped_or` is used by lesson 04 (section 5, "The shipped model"), lesson 05 and
the filter lab.
"""

from __future__ import annotations

import os
from pathlib import Path

from utils.i18n import count_phrase, tr
from utils.models import SHIPPED_MODEL_PATH, ModelError, load_model


def load_shipped_or(fallback_model, path: str | os.PathLike | None = None):
    """``(model, sentence)``: the shipped model when it loads, else ``fallback_model``; the sentence says which.

    Lets a lesson run top to bottom on a computer without the shipped model: it continues
    with the model it trained itself and tells the student so. Without a fallback
    (``None``) a missing or broken shipped model raises its :class:`ModelError`.
    """
    path = Path(path) if path is not None else SHIPPED_MODEL_PATH
    try:
        model = load_model(path)
    except ModelError as error:
        if fallback_model is None:
            raise
        return fallback_model, tr(
            f"The shipped model is NOT available ({error}). The rest of the lesson uses the model trained "
            f"above in this notebook ({fallback_model.count_params():,} parameters): expect much lower "
            "numbers than the shipped model's.",
            f"Modelul livrat NU este disponibil ({error}). Restul lecției folosește modelul antrenat mai sus "
            f"în acest notebook ({count_phrase(fallback_model.count_params(), 'parametri', 'ro')}): așteptați-vă la cifre mult "
            "mai mici decât ale modelului livrat.")
    card = path.with_name("MODEL_CARD.md")
    where = tr(f" Its measured results are in {card}.", f" Rezultatele măsurate ale modelului se află în {card}.") if card.exists() else ""
    return model, tr(
        f"Using the shipped model {path} ({model.count_params():,} parameters), trained with "
        "`python -m utils.train --config models/recipe.json` on FER2013's Training split only; the epoch with "
        f"the best PublicTest accuracy was kept.{where}",
        f"Folosim modelul livrat {path} ({count_phrase(model.count_params(), 'parametri', 'ro')}), antrenat cu "
        "`python -m utils.train --config models/recipe.json` doar pe partea Training a FER2013; s-a păstrat "
        f"epoca cu cea mai bună acuratețe pe PublicTest.{where}")


__all__ = ["load_shipped_or"]
