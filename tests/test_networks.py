"""A run's G and D as layer tables (gan_core.inference.networks): what model.summary() prints, for the Snapshots
page."""
from pathlib import Path

import pytest

from gan_core import config, runs
from gan_core.inference import network_tables

SHIPPED = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dcgan"


def config_only_run(root: Path, preset: str, **overrides) -> runs.RunDir:
    """A run folder before its first epoch: config.json and nothing saved yet."""
    cfg = config.from_preset(preset, {"epochs": 1, **overrides})
    path = root / f"00000-{preset}"
    path.mkdir()
    (path / "config.json").write_text(cfg.to_json())
    return runs.RunDir(path)


def test_the_shipped_generator_and_its_discriminator_as_model_summary_prints_them():
    if not (SHIPPED / "generators").is_dir():
        pytest.skip(f"the shipped model {SHIPPED} is absent")
    generator, discriminator = network_tables(runs.RunDir(SHIPPED))
    # the TF DCGAN tutorial's sizes, as gan_core/models/mnist_dcgan.py's docstring gives them
    assert (generator.role, generator.total, discriminator.role, discriminator.total) == \
        ("generator", 2_330_944, "discriminator", 212_865)
    assert generator.source == "generators/epoch_0030.keras" and "config.json" in discriminator.source
    assert generator.rows[:2] == [{"layer (type)": "z (InputLayer)", "output shape": "(None, 100)", "parameters": 0},
                                  {"layer (type)": "dense (Dense)", "output shape": "(None, 12544)",
                                   "parameters": 1_254_400}]
    assert generator.rows[-1]["output shape"] == "(None, 28, 28, 1)"
    assert discriminator.rows[-1] == {"layer (type)": "dense (Dense)", "output shape": "(None, 1)",
                                      "parameters": 6_273}
    for table in (generator, discriminator):
        assert sum(r["parameters"] for r in table.rows) == table.total
    assert generator.trainable == 2_330_944 - 25_472  # BatchNorm's moving means and variances are not trained
    assert discriminator.trainable == discriminator.total


def test_before_any_generator_is_saved_g_is_built_from_the_config_and_names_read_as_in_a_fresh_session(tmp_path):
    run = config_only_run(tmp_path, "mnist_dense")
    first = network_tables(run)
    again = network_tables(run)  # Keras numbers layer names per process: the second build must read the same
    assert [t.role for t in first] == ["generator", "discriminator"]
    assert first[0].source.startswith("built from config.json")
    assert [r["layer (type)"] for r in first[1].rows] == [r["layer (type)"] for r in again[1].rows]
    assert [r["layer (type)"] for r in first[1].rows if "Dense" in r["layer (type)"]][:2] == \
        ["dense (Dense)", "dense_1 (Dense)"]


def test_a_cyclegan_has_two_generators_and_one_discriminator_per_domain(tmp_path):
    run = config_only_run(tmp_path, "cyclegan_mnist_fashion", filters=8, res_blocks=1)
    tables = network_tables(run)
    assert [t.role for t in tables] == ["generator A→B", "generator B→A", "discriminator"]
    assert tables[0].total == tables[1].total and tables[2].note.startswith("one per domain")
    cfg = run.config()
    assert tables[0].rows[-1]["output shape"] == f"(None, {cfg.image_size}, {cfg.image_size}, {cfg.channels})"
