"""gan_core.models.batchnorm: Keras's BatchNormalization, trained through one fused kernel with the same arithmetic."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_core import config as config_lib
from gan_core import models
from gan_core.models.batchnorm import BatchNormalization

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _pair(momentum=0.8, policy="float32", **kwargs):
    """Keras's layer and ours with the same (non-trivial) weights, built under `policy`."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        theirs, ours = keras.layers.BatchNormalization(momentum=momentum, **kwargs), \
            BatchNormalization(momentum=momentum, **kwargs)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return theirs, ours


def _train_call(layer, x):
    """y, the gradients of a fixed loss w.r.t. x, gamma and beta, and the moving statistics after the call."""
    x = tf.cast(x, layer.compute_dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.sin(tf.cast(x, tf.float32)))
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    return [np.asarray(tf.cast(v, tf.float32)) for v in [y, *grads]] + [v.numpy() for v in layer.non_trainable_weights]


def _op_types(layer, x, **call) -> set[str]:
    """The op types of the layer's call, traced: FusedBatchNormV3 where the fused path ran."""
    graph = tf.function(lambda v: layer(v, **call)).get_concrete_function(x).graph
    return {op.type for op in graph.get_operations()}


def _with_keras_batchnorm(model):
    """`model` rebuilt (fresh weights) with Keras's own layer where ours is: the networks as built before."""
    def clone(layer):
        kind = keras.layers.BatchNormalization if isinstance(layer, BatchNormalization) else type(layer)
        return kind.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def _same_weights(theirs, ours, shape):
    theirs.build(shape)
    ours.build(shape)
    rng = np.random.default_rng(0)
    for a, b in zip(theirs.weights, ours.weights):
        value = rng.uniform(0.5, 1.5, a.shape).astype("float32")
        a.assign(value)
        b.assign(value)


@pytest.mark.parametrize("shape", [(64, 300), (8, 12, 12, 16), (1, 6, 6, 4)])
def test_training_pass_matches_keras_to_float32_round_off(shape):
    """Output, every gradient and the moving averages (Keras's biased batch variance, not the kernel's n/(n-1))."""
    theirs, ours = _pair()
    _same_weights(theirs, ours, shape)
    x = tf.random.stateless_normal(shape, seed=[1, 2], mean=0.5, stddev=2.0)
    assert "FusedBatchNormV3" in _op_types(ours, x, training=True)
    assert "FusedBatchNormV3" not in _op_types(theirs, x, training=True)
    for name, a, b in zip(["y", "dx", "dgamma", "dbeta", "moving_mean", "moving_variance"],
                          _train_call(theirs, x), _train_call(ours, x)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * np.abs(a).max(), err_msg=name)


@pytest.mark.parametrize("shape", [(16, 8, 8, 32), (64, 300)])
def test_bfloat16_pass_matches_keras_within_one_rounding(shape):
    """Both normalise in float32 and round the output to bfloat16: at most one bfloat16 step apart."""
    theirs, ours = _pair(policy="mixed_bfloat16")
    _same_weights(theirs, ours, shape)
    x = tf.random.stateless_normal(shape, seed=[3, 4], stddev=2.0)
    assert "FusedBatchNormV3" in _op_types(ours, tf.cast(x, "bfloat16"), training=True)
    (y_a, dx_a, *rest_a), (y_b, dx_b, *rest_b) = _train_call(theirs, x), _train_call(ours, x)
    assert ours.compute_dtype == "bfloat16"
    np.testing.assert_allclose(y_b, y_a, rtol=2 ** -7, atol=2 ** -7)
    np.testing.assert_allclose(dx_b, dx_a, rtol=2 ** -6, atol=2 ** -6 * np.abs(dx_a).max())
    for a, b in zip(rest_a, rest_b):  # gamma/beta gradients and moving statistics, in float32
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-3 * np.abs(a).max())


def test_a_batch_of_one_vector_gives_keras_zero_variance_not_nan():
    theirs, ours = _pair(momentum=0.5)
    _same_weights(theirs, ours, (1, 5))
    x = tf.constant([[1.0, -2.0, 3.0, 0.5, 4.0]])
    a, b = _train_call(theirs, x), _train_call(ours, x)
    assert all(np.isfinite(v).all() for v in b)
    for va, vb in zip(a, b):
        np.testing.assert_allclose(vb, va, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["inference", "mask", "rank3", "renorm"])
def test_what_the_kernel_does_not_cover_is_keras_own_call(case):
    kwargs = {"renorm": True} if case == "renorm" else {}
    theirs, ours = _pair(**kwargs)
    shape = (4, 6, 3) if case in ("mask", "rank3") else (4, 5, 5, 3)
    _same_weights(theirs, ours, shape)
    x = tf.random.stateless_normal(shape, seed=[5, 6])
    call = {"training": case != "inference"}
    if case == "mask":
        call["mask"] = tf.constant([[True] * 5 + [False]] * 4)
    assert "FusedBatchNormV3" not in _op_types(ours, x, **call)
    np.testing.assert_array_equal(ours(x, **call).numpy(), theirs(x, **call).numpy())


def test_saved_models_load_in_safe_mode_as_the_same_layer(tmp_path):
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, BatchNormalization()(inputs))
    model(tf.ones((3, 4, 4, 2)), training=True)  # move the statistics away from their start
    model.save(tmp_path / "bn.keras")
    loaded = keras.models.load_model(tmp_path / "bn.keras", compile=False, safe_mode=True)
    assert type(loaded.layers[-1]) is BatchNormalization and loaded.layers[-1].name == model.layers[-1].name
    x = tf.random.stateless_normal((2, 4, 4, 2), seed=[7, 8])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_every_architecture_builds_it_with_batchnorms_usual_names():
    """The builders use it (so every preset gets the speed), under the layer names Keras gives its own."""
    for name in ("mnist_dcgan", "faces_rgb64", "dcgan64", "pix2pix"):
        arch = models.get(name)
        cfg = config_lib.from_preset(arch.name if name != "dcgan64" else "faces_rgb64_modern",
                                     {"data": "unused", "precision": "float32"})
        norms = [layer for layer in arch.build_generator(cfg).layers
                 if isinstance(layer, keras.layers.BatchNormalization)]
        assert norms and all(type(layer) is BatchNormalization for layer in norms), name
        assert all(layer.name.startswith("batch_normalization") for layer in norms), name


def test_training_steps_give_the_same_weights_as_keras_batchnorm():
    """The training math is unchanged: DCGAN 64's G and D (BatchNorm in both), three of the TF DCGAN tutorial's steps on
    the same batches and noise, once with Keras's BatchNormalization and once with ours, from the same weights. With
    SGD: Adam divides each gradient by its own running size, so the gradient of a bias that the next BatchNorm
    cancels (exactly zero, numerically round-off of either order) becomes a full step of random sign."""
    cfg = config_lib.from_preset("faces_rgb64_modern", {"data": "unused", "precision": "float32", "image_size": 16,
                                                        "filters": 8, "batch_size": 8})
    arch = models.get(cfg.architecture)
    ours = [arch.build_generator(cfg), arch.build_discriminator(cfg)]

    theirs = [_with_keras_batchnorm(m) for m in ours]
    for copy, model in zip(theirs, ours):
        copy.set_weights(model.get_weights())
    assert sum(isinstance(layer, BatchNormalization) for m in theirs for layer in m.layers) == 0
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    images = tf.random.stateless_uniform((3, 8, 16, 16, 3), seed=[9, 9], minval=-1.0, maxval=1.0)
    noise = tf.random.stateless_normal((3, 8, cfg.noise_dim), seed=[10, 10])

    def train(g, d):
        g_opt, d_opt = keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05)
        for real, z in zip(images, noise):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                real_logits, fake_logits = d(real, training=True), d(g(z, training=True), training=True)
                g_loss = bce(tf.ones_like(fake_logits), fake_logits)
                d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
            g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
            d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        return [w for m in (g, d) for w in m.get_weights()]

    start = [w for m in ours for w in m.get_weights()]
    expected, got = train(*theirs), train(*ours)
    assert len(expected) == len(got) == len(start)
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert max(np.abs(a - s).max() for a, s in zip(expected, start)) > 1e-3  # the steps did move the weights


def test_a_checkpoint_written_with_keras_batchnorm_resumes_into_ours(tmp_path):
    """Runs trained before the fused layer existed hold Keras's layer in their tf.train.Checkpoint: same variables
    in the same places, so they resume with every weight and moving statistic as saved."""
    cfg = config_lib.from_preset("mnist_dcgan", {"precision": "float32"})
    arch = models.get(cfg.architecture)
    ours = arch.build_generator(cfg)
    theirs = _with_keras_batchnorm(ours)
    rng = np.random.default_rng(1)
    theirs.set_weights([rng.normal(size=w.shape).astype("float32") for w in theirs.get_weights()])
    path = tf.train.Checkpoint(generator=theirs).write(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(generator=ours).read(path).assert_existing_objects_matched()
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(b, a)
