"""Issue 15: what a run cannot survive is refused before its folder exists, and before any weight is allocated."""
import resource

import pytest

from gan_core import config, preflight
from gan_core.errors import ConfigError, DataError

GIB = 1024**3


def cfg_of(preset="mnist_dcgan", **values):
    cfg = config.from_preset(preset, {"data": "/faces"} if preset.startswith(("faces", "celeba")) else None)
    for key, value in values.items():
        setattr(cfg, key, value)
    return cfg.validate()


def test_the_estimate_counts_the_real_parameters_without_allocating_them():
    import keras

    from gan_core import models

    cfg = cfg_of()
    g = models.get(cfg.architecture).build_generator(cfg)
    d = models.get(cfg.architecture).build_discriminator(cfg)
    estimate = preflight.estimate_memory(cfg)
    assert (estimate.g_parameters, estimate.d_parameters) == (g.count_params(), d.count_params()) == (2330944, 212865)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    huge = preflight.estimate_memory(cfg_of(image_size=1024))  # G's Dense alone is 1.7 billion weights, 6.7 GB
    assert huge.g_parameters > 1.6e9 and huge.model_bytes > 16 * huge.g_parameters
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 1024**2  # KiB: under 1 GiB more, ever
    # the deferred variables are forgotten: a model built afterwards allocates only its own, and names its layers
    # as if no estimate had been made
    z = keras.Input((4,))
    first = keras.layers.Dense(2).name  # "dense_N": models were built above
    preflight.estimate_memory(cfg)
    after = keras.layers.Dense(2)
    assert keras.Model(z, after(z)).count_params() == 10
    assert after.name == f"dense_{int(first.split('_')[1]) + 1}"


@pytest.mark.parametrize("preset", ["mnist_dense", "mnist_cdcgan", "faces_rgb64", "pix2pix_edges_digits",
                                    "cyclegan_mnist_fashion"])
def test_every_kind_of_preset_can_be_estimated_and_fits_a_small_machine(preset):
    estimate = preflight.check_memory(cfg_of(preset), preflight.Memory(host=8 * GIB, gpu=None), n_images=10_000)
    assert estimate is not None and estimate.g_parameters > 0 and estimate.d_parameters > 0


@pytest.mark.parametrize("values,needle", [
    ({"noise_dim": 4096, "image_size": 256}, r"mnist_dcgan at noise_dim 4096, image_size 256, batch_size 256 needs "
                                             r"at least [\d,.]+ GiB to train \(G [\d,]+ and D [\d,]+ parameters"),
    ({"image_size": 1024}, r"but 8\.0 GiB is free in this machine's memory: lower noise_dim, image_size or batch_size"),
])
def test_models_that_cannot_fit_are_refused_with_what_to_lower(values, needle):
    with pytest.raises(ConfigError, match=needle):
        preflight.check_memory(cfg_of(**values), preflight.Memory(host=8 * GIB, gpu=None))


def test_on_a_gpu_the_models_are_weighed_against_the_gpu_and_the_images_against_the_host():
    cfg = cfg_of(image_size=256)
    with pytest.raises(ConfigError, match="free on the GPU"):
        preflight.check_memory(cfg, preflight.Memory(host=1000 * GIB, gpu=1 * GIB))
    assert preflight.check_memory(cfg_of(), preflight.Memory(host=8 * GIB, gpu=1 * GIB)) is not None


def test_training_images_that_cannot_fit_are_refused_with_limit_advice():
    # 60,000 MNIST digits resized to 128x128 are 3.9 GB as float32 and as much again while decoding
    cfg = cfg_of("mnist_dense", image_size=128)
    with pytest.raises(ConfigError, match=r"the 60,000 training images at 128x128x1 need at least [\d.]+ GiB of memory "
                                          r"as float32 .*but 4\.0 GiB is free: train on fewer images \(--limit N\)"):
        preflight.check_memory(cfg, preflight.Memory(host=4 * GIB, gpu=None))
    cfg.limit = 100
    assert preflight.check_memory(cfg, preflight.Memory(host=4 * GIB, gpu=None)).n_images == 100


def test_unknown_free_memory_refuses_nothing():
    assert preflight.check_memory(cfg_of(image_size=1024), preflight.Memory(host=None, gpu=None)) is not None


def test_data_that_is_not_there_is_found_before_the_run(tmp_path):
    for preset, data, needle in (("mnist_dense", tmp_path / "missing.npz", "does not exist"),
                                 ("faces_rgb64", tmp_path / "no-faces", "does not exist")):
        cfg = config.from_preset(preset, {"data": str(data)})
        with pytest.raises(DataError, match=needle):
            preflight.check(cfg, preflight.Memory(host=8 * GIB, gpu=None))


def test_this_machine_reports_some_free_memory():
    memory = preflight.available_memory()
    assert memory.host is None or memory.host > 0
