"""The model card's figure tool draws runs from their history.csv and refuses an empty run."""

import pytest

from tools.model_card_figures import read_history, runs_figure

HEADER = "epoch,seconds,learning_rate,accuracy,loss,val_accuracy,val_loss\n"


def write_run(folder, rows):
    folder.mkdir()
    (folder / "history.csv").write_text(HEADER + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return folder


def test_runs_figure_draws_both_curves_of_every_run(tmp_path):
    first = write_run(tmp_path / "wide2", [(1, 10, 1e-3, 0.3, 1.8, 0.3, 1.7), (2, 10, 1e-3, 0.4, 1.6, 0.35, 1.6)])
    second = write_run(tmp_path / "flip_only", [(1, 10, 1e-3, 0.35, 1.7, 0.33, 1.65), (2, 10, 1e-3, 0.5, 1.4, 0.4, 1.5),
                                                (3, 10, 1e-3, 0.6, 1.2, 0.42, 1.55)])
    figure = runs_figure([first, second])
    loss_panel, accuracy_panel = figure.axes
    labels = [line.get_label() for line in accuracy_panel.get_lines()]
    assert labels == ["wide2: training", "wide2: validation", "flip_only: training", "flip_only: validation"]
    assert list(accuracy_panel.get_lines()[3].get_ydata()) == [0.33, 0.4, 0.42]
    # The best epoch (lowest validation loss) of each run is marked on the loss panel.
    markers = [line for line in loss_panel.get_lines() if line.get_marker() == "o"]
    assert [float(m.get_ydata()[0]) for m in markers] == [1.6, 1.5]


def test_a_run_without_epochs_is_refused_with_a_clear_message(tmp_path):
    empty = write_run(tmp_path / "new", [])
    with pytest.raises(SystemExit, match="has no epochs: train the run first"):
        read_history(empty / "history.csv")
