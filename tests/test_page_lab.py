"""The Step-through lab page through streamlit's AppTest."""
import pytest
from apptest_helpers import assert_clean, image_urls, labels, open_page, texts

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


def test_lab_steps_d_and_g_and_the_grid_and_scores_change(runs_dir, mnist_npz, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(mnist_npz.parent))
    at = open_page("lab")
    assert "Press **D step**" in texts(at)
    grids = [image_urls(at)]

    def click(label):
        next(b for b in at.button if b.label == label).click().run()
        assert_clean(at)
        grids.append(image_urls(at))

    click("D step")
    assert "Last update: **D**" in texts(at) and {"G loss", "D loss", "D(x)", "D(G(z))"} <= set(labels(at.metric))
    d_only = {m.label: m.value for m in at.metric}
    click("G step")
    assert "Last update: **G**" in texts(at)
    click("10 steps")
    assert "after 22 updates" in texts(at)  # 1 + 1 + 10 x (1 D + 1 G)
    next(s for s in at.selectbox if s.label == "Loss").set_value("hinge").run()
    next(n for n in at.number_input if n.label == "D steps per G step").set_value(2).run()
    click("Full step")
    assert "after 25 updates" in texts(at)  # + 2 D + 1 G
    assert {m.label: m.value for m in at.metric} != d_only
    next(n for n in at.number_input if n.label == "Real label").set_value(0.9).run()
    assert any("label smoothing means nothing to the hinge loss" in e.value for e in at.error)
