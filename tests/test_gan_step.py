"""The latent GAN step (gan_core.train.latent_gan) on tiny dense networks, against the same algebra written out."""
import numpy as np
import pytest

from gan_core import config
from gan_core.algorithm import objectives
from gan_core.train.latent_gan import GAN, alternating_step, simultaneous_step

LR = 0.1


def networks(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    G = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh")])
    D = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    return G, D


def gan(loss, update="alternating"):
    import keras

    cfg = config.TrainConfig(loss=loss, update=update)
    G, D = networks()
    return GAN(cfg, G, D, keras.optimizers.SGD(LR), keras.optimizers.SGD(LR))


def batch():
    rng = np.random.default_rng(1)
    return rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)


def g_after_one_step(g_real_from_updated_d: bool, loss: str) -> list[np.ndarray]:
    """G's weights after the alternating step written out: D's SGD update on both sets first, then G's on the
    objective's G loss, with D's real outputs from the updated D (or, for comparison, from before its update)."""
    import tensorflow as tf

    G, D = networks()
    objective = objectives.get(loss)
    real, z = batch()
    with tf.GradientTape() as tape:
        real_before, fake = D(real), D(tf.stop_gradient(G(z)))
        _, d_loss, _ = objective(real_before, fake)
    for v, g in zip(D.trainable_variables, tape.gradient(d_loss, D.trainable_variables)):
        v.assign_sub(LR * g)
    with tf.GradientTape() as tape:
        real_scores = tf.stop_gradient(D(real) if g_real_from_updated_d else real_before)
        g_loss, _, _ = objective(real_scores, D(G(z)))
    for v, g in zip(G.trainable_variables, tape.gradient(g_loss, G.trainable_variables)):
        v.assign_sub(LR * g)
    return [v.numpy() for v in G.trainable_variables]


@pytest.mark.parametrize("loss", ["rasgan", "bce"])
def test_alternating_g_learns_through_the_updated_ds_real_scores_too(loss):
    """RaSGAN's G loss reads D's real outputs: after D's update they are the updated D's (issue 30); bce's ignores
    them, so its step is unchanged (and spends no extra pass of D on the reals)."""
    import tensorflow as tf

    step = gan(loss)
    real, z = batch()
    alternating_step(step, tf.constant(real), None, tf.constant(z), None, tf.constant([0, 0], tf.int64),
                     tf.constant(0, tf.int64))
    trained = [v.numpy() for v in step.G.trainable_variables]
    for got, want in zip(trained, g_after_one_step(True, loss)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    stale = g_after_one_step(False, loss)
    assert (max(np.abs(a - b).max() for a, b in zip(trained, stale)) > 1e-4) == (loss == "rasgan")


def test_simultaneous_step_updates_both_networks_from_one_pass():
    import tensorflow as tf

    step = gan("rasgan", "simultaneous")
    real, z = batch()
    G, D = networks()
    objective = objectives.get("rasgan")
    with tf.GradientTape(persistent=True) as tape:
        g_loss, d_loss, _ = objective(D(real), D(G(z)))
    want = [v - LR * g for v, g in zip(G.trainable_variables, tape.gradient(g_loss, G.trainable_variables))]
    want_d = [v - LR * g for v, g in zip(D.trainable_variables, tape.gradient(d_loss, D.trainable_variables))]
    simultaneous_step(step, tf.constant(real), None, tf.constant(z), None, tf.constant([0, 0], tf.int64),
                      tf.constant(0, tf.int64))
    for got, expected in zip(step.G.trainable_variables + step.D.trainable_variables, want + want_d):
        np.testing.assert_allclose(got.numpy(), np.asarray(expected), rtol=1e-5, atol=1e-6)
