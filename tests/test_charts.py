"""The training chart: windows and epoch means on one epoch axis, in two panels, with an optional marker line."""
import pytest

from gan_core import charts


def window(epoch, step_in_epoch, steps=4, **values):
    return {"kind": "window", "epoch": epoch, "step_in_epoch": step_in_epoch, "steps_per_epoch": steps,
            "g_loss": 1.0, "d_loss": 1.2, "d_real": 0.6, "d_fake": 0.4, **values}


def test_windows_sit_at_fractional_epochs():
    assert charts.window_epoch(window(1, 2)) == pytest.approx(0.5)
    assert charts.window_epoch(window(3, 4)) == pytest.approx(3.0)


def test_losses_on_top_and_discriminator_outputs_below():
    windows = [window(1, 2), window(1, 4), window(2, 2, g_loss=0.8)]
    means = [{"kind": "epoch", "epoch": 1, "g_loss": 0.9, "d_loss": 1.1, "d_real": 0.6, "d_fake": 0.4}]
    fig = charts.training_figure(windows, means, mark_epoch=1)
    lines = {t.name: t for t in fig.data if t.mode == "lines"}
    assert set(lines) == {"G loss", "D loss", "D(x)", "D(G(z))"}
    assert list(lines["G loss"].x) == [0.5, 1.0, 1.5] and list(lines["G loss"].y) == [1.0, 1.0, 0.8]
    assert lines["G loss"].yaxis == "y" and lines["D(x)"].yaxis == "y2"
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(markers) == 4 and all(list(t.x) == [1] for t in markers)
    assert [s.x0 for s in fig.layout.shapes] == [1, 1]  # the marker line crosses both panels


def test_no_records_make_an_empty_figure_without_a_marker():
    fig = charts.training_figure([])
    assert not fig.data and not fig.layout.shapes
