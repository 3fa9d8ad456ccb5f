"""utils.metrics and utils.evaluate: the metrics by hand, and the command line on a fixture with known predictions."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from utils.data import EMOTIONS
from utils.evaluate import main
from utils.metrics import accuracy, confusion_matrix, evaluate_model, format_report, per_class_metrics

# (true class, class the fixture model predicts), 20 images, 16 right.
PAIRS = [(0, 0)] * 3 + [(0, 2)] + [(1, 1)] * 2 + [(2, 2), (2, 0)] + [(3, 3)] * 4 \
    + [(4, 4)] * 2 + [(4, 6)] + [(5, 5)] * 2 + [(6, 6)] * 2 + [(6, 3)]
CENTRES = 0.1 + 0.12 * np.arange(7)  # the mean brightness the fixture model maps to each class


# --------------------------------------------------------------------------- metrics


def test_confusion_matrix_counts_pairs():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert matrix.sum() == 6 and np.trace(matrix) == 4


def test_per_class_metrics_by_hand():
    matrix = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    m = per_class_metrics(matrix)
    np.testing.assert_allclose(m.precision, [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(m.recall, [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(m.f1, [1 / 2, 2 / 3, 0.8])
    np.testing.assert_array_equal(m.support, [2, 1, 3])
    assert m.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)


def test_a_class_never_predicted_or_absent_gives_zero_not_nan():
    m = per_class_metrics(confusion_matrix([0, 0, 1], [0, 0, 0], num_classes=3))
    np.testing.assert_allclose(m.precision, [2 / 3, 0, 0])
    np.testing.assert_allclose(m.recall, [1, 0, 0])
    assert not np.isnan(m.f1).any()


def test_accuracy_and_bad_input():
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    with pytest.raises(ValueError):
        accuracy([], [])
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="0..6"):
        confusion_matrix([0, 7], [0, 1])


# --------------------------------------------------------------------------- a model with known predictions


def brightness_model():
    """Predicts the class whose centre is nearest the face's mean brightness.

    argmax_k -(m - c_k)^2 = argmax_k (2 c_k m - c_k^2): one linear layer on the mean.
    Mirror-symmetric by construction, so flip-TTA does not change its answers.
    """
    import keras

    inputs = keras.Input((48, 48, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    scores = keras.layers.Dense(7, activation="softmax")(mean)
    model = keras.Model(inputs, scores)
    model.layers[-1].set_weights([50 * 2 * CENTRES[None, :], -50 * CENTRES**2])
    return model


def fixture_faces():
    labels = np.array([t for t, _ in PAIRS])
    predicted = np.array([p for _, p in PAIRS])
    images = np.stack([np.full((48, 48, 1), round(CENTRES[p] * 255), np.uint8) for p in predicted])
    return images, labels, predicted


def write_split(folder: Path, images, labels, prefix: str) -> None:
    for i, (image, label) in enumerate(zip(images, labels)):
        (folder / EMOTIONS[label]).mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(folder / EMOTIONS[label] / f"{prefix}_{i:03d}.png"), image[..., 0])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "brightness.keras"
    brightness_model().save(path)
    return path


def expected_matrix() -> np.ndarray:
    matrix = np.zeros((7, 7), int)
    for t, p in PAIRS:
        matrix[t, p] += 1
    return matrix


def test_evaluate_model_on_known_predictions():
    images, labels, predicted = fixture_faces()
    result = evaluate_model(brightness_model(), images, labels)
    np.testing.assert_array_equal(result.predictions, predicted)
    assert result.accuracy == 16 / 20 and result.n == 20
    np.testing.assert_array_equal(result.matrix, expected_matrix())
    assert result.matrix[0, 2] == 1 and result.matrix[6, 3] == 1 and result.matrix[3, 3] == 4
    # 'angry': predicted 4 times (3 right + the 'fear' face), 4 angry faces (3 found).
    assert result.metrics.precision[0] == pytest.approx(3 / 4) and result.metrics.recall[0] == pytest.approx(3 / 4)
    assert result.metrics.precision[3] == pytest.approx(4 / 5) and result.metrics.recall[3] == 1
    assert result.images_per_second > 0
    report = format_report(result)
    assert "accuracy 0.8000 on 20 images" in report and "confusion matrix" in report


def test_cli_json_on_one_split_folder(tmp_path, model_file, capsys):
    images, labels, _ = fixture_faces()
    write_split(tmp_path / "test", images, labels, "PublicTest")
    assert main(["--data", str(tmp_path / "test"), "--model", str(model_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(0.8) and result["n"] == 20
    assert result["split"] == "public_test"
    assert result["confusion_matrix"] == expected_matrix().tolist()
    assert set(result["per_class"]) == set(EMOTIONS)
    assert result["per_class"]["angry"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}
    assert result["images_per_second"] > 0


def test_cli_default_split_is_private_test_and_split_can_be_chosen(tmp_path, model_file, capsys):
    images, labels, _ = fixture_faces()
    lines = ["emotion,pixels,Usage"]
    for usage, keep in (("Training", slice(0, 5)), ("PublicTest", slice(0, 10)), ("PrivateTest", slice(None))):
        for image, label in zip(images[keep], labels[keep]):
            lines.append(f"{label},{' '.join(map(str, image.ravel()))},{usage}")
    csv = tmp_path / "fer2013.csv"
    csv.write_text("\n".join(lines) + "\n")
    assert main(["--data", str(csv), "--model", str(model_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["split"], result["n"], result["accuracy"]) == ("private_test", 20, pytest.approx(0.8))
    assert main(["--data", str(csv), "--model", str(model_file), "--split", "public_test", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["split"], result["n"]) == ("public_test", 10)
    assert main(["--data", str(csv), "--model", str(model_file)]) == 0
    assert "accuracy 0.8000 on 20 images" in capsys.readouterr().out


def test_cli_bad_input_gives_clear_errors(tmp_path, model_file, capsys):
    images, labels, _ = fixture_faces()
    write_split(tmp_path / "test", images, labels, "PublicTest")
    assert main(["--data", str(tmp_path / "nowhere"), "--model", str(model_file)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "test"), "--model", str(tmp_path / "missing.keras")]) == 2
    assert "No model at" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"garbage")
    assert main(["--data", str(tmp_path / "test"), "--model", str(corrupt)]) == 2
    assert "not a Keras 3 model file" in capsys.readouterr().err
    assert corrupt.read_bytes() == b"garbage"
    assert main(["--data", str(tmp_path / "test"), "--model", str(model_file), "--split", "train"]) == 2
    assert "no split 'train'" in capsys.readouterr().err
