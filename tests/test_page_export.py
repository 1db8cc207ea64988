"""The Export page through streamlit's AppTest."""
import imageio.v3 as iio
import pytest
from apptest_helpers import assert_clean, image_urls, only_run, open_page, texts

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


def test_export_grid_png_and_interpolation_gif(runs_dir):
    at = open_page("export")
    run = only_run(runs_dir)
    assert str(run.exports_dir) in texts(at)
    for label, value in (("Rows", 2), ("Columns", 3), ("First seed", 10), ("Pixel scale", 2), ("Steps", 5)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.run()
    assert_clean(at)
    png_button, gif_button = at.download_button
    png_button.click().run()
    png = run.exports_dir / "00000-tiny_epoch0002_grid2x3_seed10_x2.png"
    assert iio.imread(png).shape[:2] == (2 * (2 * 28 + 3 * 2), 2 * (3 * 28 + 4 * 2))  # pad 2, scale 2
    gif_button.click().run()
    (gif,) = run.exports_dir.glob("*.gif")
    assert iio.imread(gif, index=None).shape[0] == 8  # 5 steps forth and 3 back

    grid_before = image_urls(at)[0]
    (psi,) = at.slider
    assert psi.label == "Truncation ψ" and psi.value == 1
    psi.set_value(0.5).run()
    assert_clean(at)
    assert image_urls(at)[0] != grid_before and "seeds 10…15 · ψ = 0.50" in texts(at)
    png_button, gif_button = at.download_button
    png_button.click().run()
    assert (run.exports_dir / "00000-tiny_epoch0002_grid2x3_seed10_x2_psi0.50.png").is_file()
    assert "ψ = 0.50" in [c for image in at.get("image") for c in image.captions][1]  # the GIF too

    for label, value in (("Rows", 32), ("Columns", 32), ("Pixel scale", 16)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.run()
    assert not at.exception and any("the most is 4096 a side" in e.value for e in at.error)
