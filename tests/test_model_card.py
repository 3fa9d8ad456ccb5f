"""The model card's PublicTest accuracy is the one the shipped pipeline measures today."""

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CARD = PROJECT_ROOT / "models" / "MODEL_CARD.md"


def card_accuracy() -> float:
    """The accuracy the card states, written as ``accuracy **0.624**``."""
    found = re.findall(r"accuracy \*\*(0\.\d+)\*\*", CARD.read_text())
    assert len(found) == 1, "the card must state its PublicTest accuracy once, as 'accuracy **0.xxx**'"
    return float(found[0])


@pytest.mark.slow
def test_card_accuracy_equals_the_measurement(shared_fer2013):
    from utils.data import load_fer2013
    from utils.metrics import evaluate_model
    from utils.models import load_model

    split = load_fer2013(shared_fer2013, progress=False)["public_test"]
    measured = evaluate_model(load_model(), split.images, split.labels).accuracy
    assert measured == pytest.approx(card_accuracy(), abs=0.005), f"card {card_accuracy()}, measured {measured:.4f}"
