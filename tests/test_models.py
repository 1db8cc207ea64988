"""Each architecture builds, makes the image size its preset promises, and has the parameter count we expect."""
import numpy as np
import pytest

from gan_core import config, models

# Parameter counts at each preset's own size. mnist_dcgan's are the TensorFlow tutorial's published numbers;
# the others are worked out by hand from the layer sizes in each module's docstring (see the formulas below).


def dense(i, o, bias=True):
    return i * o + (o if bias else 0)


def conv(k, i, o, bias=True):
    return k * k * i * o + (o if bias else 0)


def bn(c):
    return 4 * c  # gamma, beta, moving mean, moving variance


EXPECTED = {
    "dcgan64": (  # width 32: Dense to 4x4x256, three 4x4 transposed convs with BatchNorm, then to RGB
        dense(128, 4 * 4 * 256, False) + bn(4 * 4 * 256) + conv(4, 256, 128, False) + bn(128) + conv(4, 128, 64, False)
        + bn(64) + conv(4, 64, 32, False) + bn(32) + conv(4, 32, 3),
        # its preset keeps spectral_norm off, so D has BatchNorm after every convolution but the first (as DCGAN)
        conv(4, 3, 32) + conv(4, 32, 64) + bn(64) + conv(4, 64, 128) + bn(128) + conv(4, 128, 256) + bn(256)
        + dense(4 * 4 * 256, 1),
    ),
    "mnist_dcgan": (
        2_330_944,
        212_865,
    ),
    "mnist_cdcgan": (  # mnist_dcgan's, plus the label embeddings and the wider first transposed conv
        2_330_944 + dense(10, 7 * 7 * 16) + conv(5, 16, 128, False),
        212_865 + dense(10, 28 * 28) + conv(5, 1, 64, False),
    ),
    "mnist_dense": (
        dense(100, 256) + bn(256) + dense(256, 512) + bn(512) + dense(512, 1024) + bn(1024) + dense(1024, 784),
        dense(784, 512) + dense(512, 256) + dense(256, 1),
    ),
    "celeba_gray64": (
        dense(100, 8 * 8 * 256, False) + bn(8 * 8 * 256) + conv(5, 256, 128, False) + bn(128)
        + conv(5, 128, 64, False) + bn(64) + conv(5, 64, 1),
        conv(5, 1, 64) + conv(5, 64, 128) + dense(16 * 16 * 128, 1),
    ),
    "faces_rgb64": (
        dense(100, 128 * 8 * 8) + conv(3, 128, 64) + bn(64) + conv(3, 64, 128) + bn(128) + conv(3, 128, 128)
        + bn(128) + conv(3, 128, 256) + bn(256) + conv(3, 256, 3),
        conv(3, 3, 64) + conv(3, 64, 128) + bn(128) + conv(3, 128, 128) + bn(128) + conv(3, 128, 256) + bn(256)
        + dense(8 * 8 * 256, 1),
    ),
    "digits32_upsample": (
        dense(100, 4 * 4 * 256, False) + bn(4 * 4 * 256) + conv(3, 256, 128, False) + bn(128)
        + conv(3, 128, 64, False) + bn(64) + conv(3, 64, 32, False) + conv(3, 32, 1, False),
        conv(4, 1, 32) + conv(4, 32, 64) + dense(8 * 8 * 64, 1),
    ),
}


def gn(c):
    return 2 * c  # instance norm (GroupNormalization, a group per channel): gamma, beta


def _unet(cin, cout, filters):
    """Pix2Pix's U-Net at 64x64 (6 levels): encoder, decoder on [upsampled, skip], output transposed conv."""
    f = [filters * min(2 ** i, 8) for i in range(6)]
    down = conv(4, cin, f[0], False) + sum(conv(4, a, b, False) + bn(b) for a, b in zip(f[:4], f[1:5])) \
        + conv(4, f[4], f[5], False)
    ins, up = f[5], 0
    for width, skip in zip(reversed(f[:-1]), reversed(f[:-1])):
        up += conv(4, ins, width, False) + bn(width)
        ins = width + skip
    return down + up + conv(4, ins, cout)


TRANSLATORS = {  # at each preset's own size: 64x64x3, 64 filters (the papers')
    "pix2pix": (
        _unet(3, 3, 64),
        conv(4, 6, 64, False) + conv(4, 64, 128, False) + bn(128) + conv(4, 128, 256, False) + bn(256)
        + conv(4, 256, 512, False) + bn(512) + conv(4, 512, 1),
    ),
    "cyclegan": (
        conv(7, 3, 64, False) + gn(64) + conv(3, 64, 128, False) + gn(128) + conv(3, 128, 256, False) + gn(256)
        + 6 * 2 * (conv(3, 256, 256, False) + gn(256))
        + conv(3, 256, 128, False) + gn(128) + conv(3, 128, 64, False) + gn(64) + conv(7, 64, 3),
        conv(4, 3, 64) + conv(4, 64, 128, False) + gn(128) + conv(4, 128, 256, False) + gn(256)
        + conv(4, 256, 512, False) + gn(512) + conv(4, 512, 1),
    ),
}


def test_every_registered_architecture_is_checked_here():
    # the project's own: a test may register one of its own (test_multiworker's mw_mlp, from tests/)
    ours = [n for n in models.names() if models.get(n).build_generator.__module__.startswith("gan_core.")]
    assert sorted({**EXPECTED, **TRANSLATORS}) == ours


@pytest.mark.parametrize("name", sorted(TRANSLATORS))
def test_image_to_image_shapes_and_parameter_counts(name):
    cfg = config.from_preset(name, {"data": "/unused", "data_b": "/unused"} if name == "cyclegan" else
                             {"data": "/unused"})
    arch = models.get(name)
    G, D = arch.build_generator(cfg), arch.build_discriminator(cfg)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    out = np.asarray(G(x, training=False))
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    scores = np.asarray(D([x, out] if name == "pix2pix" else out, training=False))
    assert scores.shape == (2, 6, 6, 1)  # 70x70 patches: a 6x6 grid at 64x64
    assert (G.count_params(), D.count_params()) == TRANSLATORS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_and_parameter_counts(name):
    cfg = config.from_preset(name, {"data": "/unused"})
    arch = models.get(name)
    G, D = arch.build_generator(cfg), arch.build_discriminator(cfg)
    z = np.random.default_rng(0).standard_normal((3, cfg.noise_dim)).astype("float32")
    y = np.eye(cfg.num_classes, dtype="float32")[[0, 1, 2]] if cfg.num_classes else None
    images = np.asarray(G([z, y] if arch.conditional else z, training=False))
    assert images.shape == (3, cfg.image_size, cfg.image_size, cfg.channels)
    lo, hi = (-1, 1) if cfg.pixel_range == "tanh" else (0, 1)
    assert images.min() >= lo and images.max() <= hi
    logits = np.asarray(D([images, y] if arch.conditional else images, training=False))
    assert logits.shape == (3, 1)
    assert (G.count_params(), D.count_params()) == EXPECTED[name]


@pytest.mark.parametrize("name,size", [("mnist_dcgan", 32), ("celeba_gray64", 32), ("faces_rgb64", 128)])
def test_other_sizes_that_the_architecture_can_make(name, size):
    cfg = config.from_preset(name, {"data": "/unused", "image_size": size})
    G = models.get(name).build_generator(cfg)
    assert G.output_shape[1:3] == (size, size)


def test_seed_defaults_are_in_the_presets():
    p = config.presets()
    assert p["mnist_dcgan"]["batch_size"] == 256 and p["mnist_dcgan"]["g_lr"] == 1e-4
    assert p["faces_rgb64"]["real_label"] == 0.9 and p["faces_rgb64"]["beta_1"] == 0.5
    assert p["digits32_upsample"]["noise"] == "uniform" and p["digits32_upsample"]["pixel_range"] == "sigmoid"
    assert p["celeba_gray64"]["pixel_range"] == "sigmoid" and p["celeba_gray64"]["channels"] == 1
    assert p["faces_rgb64"]["channels"] == 3
