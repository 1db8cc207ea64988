"""The GAN objectives on known logits (hand-computed numbers) and the penalties where they are known exactly."""
import math

import numpy as np
import pytest

from gan_core import config
from gan_core.algorithm import objectives
from gan_core.errors import ConfigError

REAL, FAKE = [2.0, -1.0], [0.5, -3.0]  # D's logits on two real and two generated images


def softplus(x):  # -log sigmoid(-x): the cross-entropy of a logit x against label 0
    return math.log1p(math.exp(x))


def losses(name, **kwargs):
    import tensorflow as tf

    g, d, logs = objectives.get(name)(tf.constant(REAL), tf.constant(FAKE), **kwargs)
    return float(g), float(d), {k: float(v) for k, v in logs.items()}


def test_bce_is_the_seeds_cross_entropy():
    g, d, logs = losses("bce")
    assert g == pytest.approx((softplus(-0.5) + softplus(3.0)) / 2)  # G: fake -> 1
    assert d == pytest.approx((softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0)) / 2)
    assert logs == {}


def test_bce_label_smoothing_aims_d_at_real_label_on_real_images_only():
    g, d, _ = losses("bce", real_label=0.9)
    bce = lambda y, x: y * softplus(-x) + (1 - y) * softplus(x)  # noqa: E731
    assert d == pytest.approx((bce(0.9, 2.0) + bce(0.9, -1.0)) / 2 + (bce(0, 0.5) + bce(0, -3.0)) / 2)
    assert g == pytest.approx(losses("bce")[0])  # G still aims at 1


def test_bce_matches_keras_binary_cross_entropy_as_seed_000_writes_it():
    import keras
    import tensorflow as tf

    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    real, fake = tf.constant([[2.0], [-1.0]]), tf.constant([[0.5], [-3.0]])
    g, d, _ = objectives.bce(real, fake)
    assert float(g) == pytest.approx(float(cross_entropy(tf.ones_like(fake), fake)), rel=1e-6)
    assert float(d) == pytest.approx(float(cross_entropy(tf.ones_like(real), real)
                                           + cross_entropy(tf.zeros_like(fake), fake)), rel=1e-6)


def test_lsgan():
    g, d, _ = losses("lsgan")
    assert g == pytest.approx(0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2)  # 4.0625
    assert d == pytest.approx(0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + 0.5 * (0.5 ** 2 + 3 ** 2) / 2)  # 3.5625
    assert losses("lsgan", real_label=0.9)[1] == pytest.approx(
        0.5 * ((2 - 0.9) ** 2 + (-1 - 0.9) ** 2) / 2 + 0.5 * (0.5 ** 2 + 3 ** 2) / 2)


def test_hinge():
    g, d, _ = losses("hinge")
    assert d == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)  # relu(1 - real) + relu(1 + fake): 1.75
    assert g == pytest.approx(1.25)  # -mean(fake)


def test_wgan_without_its_penalty():
    g, d, logs = losses("wgan-gp")
    assert d == pytest.approx(-1.25 - 0.5)  # mean(fake) - mean(real)
    assert g == pytest.approx(1.25)
    assert logs == {"w_distance": pytest.approx(1.75)}


def test_a_replica_mean_gives_its_share_of_the_global_batch():
    import tensorflow as tf

    def share(per_example):  # this replica holds 2 of a global batch of 8
        return tf.nn.compute_average_loss(per_example, global_batch_size=8)

    for name in objectives.names():
        full, part = losses(name), losses(name, mean=share)
        assert part[0] == pytest.approx(full[0] / 4) and part[1] == pytest.approx(full[1] / 4), name


def linear_critic(w, b=0.3):
    """D(x) = <w, x> + b, a Keras model: its input gradient is w everywhere, so both penalties are known."""
    import keras

    inp = keras.Input((2, 2, 1))
    dense = keras.layers.Dense(1)
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    dense.set_weights([np.float32(w).reshape(4, 1), np.float32([b])])
    return model


W = [0.5, -1.0, 2.0, 0.25]  # |w|^2 = 5.3125


def images(seed):
    return np.random.default_rng(seed).normal(size=(3, 2, 2, 1)).astype(np.float32)


def test_r1_of_a_linear_critic_is_its_squared_weight_norm():
    import tensorflow as tf

    D = linear_critic(W)
    r1 = objectives.r1_penalty(lambda x: D(x), tf.constant(images(0)))
    assert float(r1) == pytest.approx(sum(v * v for v in W), rel=1e-6)


def test_gradient_penalty_of_a_linear_critic_is_the_norms_distance_to_one():
    import tensorflow as tf

    D = linear_critic(W)
    key = tf.constant([1, 2], tf.int64)
    gp = objectives.gradient_penalty(lambda x: D(x), tf.constant(images(0)), tf.constant(images(1)), key)
    assert float(gp) == pytest.approx((math.sqrt(5.3125) - 1) ** 2, rel=1e-5)
    unit = [v / math.sqrt(5.3125) for v in W]  # a 1-Lipschitz critic pays nothing
    gp = objectives.gradient_penalty(lambda x: linear_critic(unit)(x), tf.constant(images(0)),
                                     tf.constant(images(1)), key)
    assert float(gp) == pytest.approx(0.0, abs=1e-6)


def test_penalties_are_differentiable_in_d_and_pull_toward_their_optimum():
    """D's loss gradient through the penalty (double backprop) is the analytic one: d|w|^2/dw = 2w."""
    import tensorflow as tf

    D = linear_critic(W)
    real = tf.constant(images(0))
    with tf.GradientTape() as tape:
        r1 = objectives.r1_penalty(lambda x: D(x), real)
    kernel_grad = tape.gradient(r1, D.trainable_variables[0])
    np.testing.assert_allclose(np.ravel(kernel_grad), 2 * np.float32(W), rtol=1e-5)


def test_make_penalty_combines_gp_and_lazy_r1():
    import tensorflow as tf

    D = linear_critic(W)
    real, fake, key = tf.constant(images(0)), tf.constant(images(1)), tf.constant([1, 2], tf.int64)
    critic = lambda x: D(x)  # noqa: E731
    assert objectives.make_penalty(objectives.get("bce"), gp_weight=10.0, r1_gamma=0.0) is None
    r1_only = objectives.make_penalty(objectives.get("hinge"), gp_weight=10.0, r1_gamma=0.2)
    assert float(r1_only(critic, real, fake, key, tf.constant(3, tf.int64))) == pytest.approx(0.1 * 5.3125, rel=1e-5)
    lazy = objectives.make_penalty(objectives.get("hinge"), gp_weight=10.0, r1_gamma=0.2, r1_every=4)
    assert float(lazy(critic, real, fake, key, tf.constant(8, tf.int64))) == pytest.approx(4 * 0.1 * 5.3125, rel=1e-5)
    assert float(lazy(critic, real, fake, key, tf.constant(9, tf.int64))) == 0.0
    both = objectives.make_penalty(objectives.get("wgan-gp"), gp_weight=10.0, r1_gamma=0.2)
    assert float(both(critic, real, fake, key, tf.constant(0, tf.int64))) == pytest.approx(
        10 * (math.sqrt(5.3125) - 1) ** 2 + 0.1 * 5.3125, rel=1e-5)


def test_unknown_loss_is_refused_with_the_list():
    with pytest.raises(ConfigError, match="loss must be one of bce, lsgan, hinge, wgan-gp, rasgan; got 'ns'"):
        config.from_preset("mnist_dcgan", sets=["loss=ns"])


@pytest.mark.parametrize("sets,needle", [
    (["loss=hinge", "real_label=0.9"], "real_label .* means nothing to the hinge loss"),
    (["r1_gamma=-1"], "r1_gamma must be 0 or more"),
    (["r1_every=0"], "r1_every must be a positive whole number"),
])
def test_bad_objective_options(sets, needle):
    with pytest.raises(ConfigError, match=needle):
        config.from_preset("mnist_dcgan", sets=sets)


def test_presets_keep_the_seeds_loss_and_smoothing():
    presets = config.presets()
    assert all(values.get("loss", "bce") == "bce" for name, values in presets.items()
               if name in ("mnist_dcgan", "faces_rgb64", "celeba_gray64", "mnist_dense", "mnist_cdcgan"))
    assert config.from_preset("faces_rgb64", {"data": "/x"}).loss == "bce"
    assert config.from_preset("faces_rgb64", {"data": "/x"}).real_label == 0.9


def test_rasgan_is_cross_entropy_on_each_side_against_the_other_sides_mean():
    """RaSGAN (Jolicoeur-Martineau 2018) on known logits: mean(real) = 0.5, mean(fake) = -1.25."""
    g, d, logs = losses("rasgan")
    real_vs_fake, fake_vs_real = [2.0 + 1.25, -1.0 + 1.25], [0.5 - 0.5, -3.0 - 0.5]
    bce = lambda y, x: y * softplus(-x) + (1 - y) * softplus(x)  # noqa: E731
    side = lambda y, xs: sum(bce(y, x) for x in xs) / len(xs)  # noqa: E731
    assert d == pytest.approx(side(1, real_vs_fake) + side(0, fake_vs_real))
    assert g == pytest.approx(side(1, fake_vs_real) + side(0, real_vs_fake))
    assert logs == {} and objectives.get("rasgan").g_uses_real and not objectives.get("bce").g_uses_real


# --- what D's output means to each objective ------------------------------------------------------------------

@pytest.mark.parametrize("loss, shown_real, accuracy", [
    ("bce", [1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(1.0))], 0.5),  # probabilities: 1 of 2 real above 0.5
    ("lsgan", REAL, 0.5),  # the score itself: 2 is nearer 1 than 0, -1 is not; both fakes are nearer 0
    ("hinge", REAL, 0.5),  # the critic's score, judged by its sign
    ("wgan-gp", REAL, 0.5),
    ("rasgan", REAL, 0.75),  # against the other set's mean: 2 > -1.25 > -1; 0.5 is not below mean(real) 0.5
])
def test_each_objective_shows_what_its_d_output_means_and_judges_d_by_it(loss, shown_real, accuracy):
    reading = objectives.get(loss).reading
    assert reading.show(REAL) == pytest.approx(shown_real)
    assert reading.accuracy(reading.show(REAL), reading.show(FAKE)) == pytest.approx(accuracy)
    assert reading.sigmoid == (loss == "bce")  # only a probability is drawn on [0, 1]


def test_an_lsgan_d_is_right_nearer_its_real_target_and_a_critic_by_its_sign():
    ls, critic = objectives.LS_SCORE, objectives.CRITIC
    real, fake = [0.6, 0.4], [0.3, 0.05]  # as probabilities (above 0.5 is real) every image here would count "real"
    assert [list(x) for x in ls.right(real, fake)] == [[True, False], [True, True]]
    assert [list(x) for x in ls.right(real, fake, real_label=0.9)] == [[True, False], [True, True]]  # line 0.45
    assert [list(x) for x in critic.right([-0.2, 3.0], [-5.0, 0.1])] == [[False, True], [True, False]]
    assert objectives.PROBABILITY.accuracy(objectives.PROBABILITY.show([-0.2, 3.0]),
                                           objectives.PROBABILITY.show([-5.0, 0.1])) == 0.5


def test_a_run_from_before_readings_reads_as_the_probabilities_it_logged():
    assert objectives.reading(None) is objectives.reading("no such") is objectives.PROBABILITY
    assert objectives.reading_of([{"kind": "window", "d_real": 0.7}]) is objectives.PROBABILITY
    assert objectives.reading_of([{"kind": "window"}, {"d_reading": "critic"}]) is objectives.CRITIC
