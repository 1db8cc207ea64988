"""The moving average of G's weights: the closed form after k steps, the warm-ups, a compiled update."""
import numpy as np
import pytest

from gan_core.algorithm import ema as ema_lib


def toy_models():
    import keras

    def build():
        x = keras.Input((2,))
        y = keras.layers.Dense(3)(x)
        y = keras.layers.BatchNormalization()(y)  # non-trainable statistics are averaged too
        return keras.Model(x, y)

    return build(), build()


def weight_sequence(model, k):
    """k fixed, different weight sets for `model` (what G would be after steps 0..k-1)."""
    rng = np.random.default_rng(7)
    return [[rng.normal(size=v.shape).astype(np.float32) for v in model.weights] for _ in range(k)]


def run_average(decay, k, start_step=0, rampup=0.0, compiled=False):
    import tensorflow as tf

    source, shadow = toy_models()
    w0 = [v.numpy().copy() for v in source.weights]
    average = ema_lib.WeightAverage(source, shadow, decay, start_step, rampup)
    update = tf.function(average.update) if compiled else average.update
    sequence = weight_sequence(source, k)
    for step, weights in enumerate(sequence):
        source.set_weights(weights)
        update(tf.constant(step, tf.int64))
    return w0, sequence, [v.numpy() for v in shadow.weights]


def test_starts_as_a_copy_of_the_source():
    source, shadow = toy_models()
    ema_lib.WeightAverage(source, shadow, 0.9)
    for a, b in zip(source.weights, shadow.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("compiled", [False, True])
def test_after_k_steps_it_is_the_closed_form(compiled):
    d, k = 0.8, 6
    w0, ws, got = run_average(d, k, compiled=compiled)
    for j, value in enumerate(got):  # ema_k = d^k w0 + (1 - d) sum_i d^(k-i) w_i, with w_i G after step i-1
        expected = d ** k * w0[j] + (1 - d) * sum(d ** (k - i) * ws[i - 1][j] for i in range(1, k + 1))
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_start_step_copies_then_averages():
    d, k, s = 0.7, 7, 3
    _, ws, got = run_average(d, k, start_step=s)
    for j, value in enumerate(got):  # steps 0..s-1 copy: after step s-1 the average is w_s exactly
        expected = d ** (k - s) * ws[s - 1][j] + (1 - d) * sum(d ** (k - i) * ws[i - 1][j] for i in range(s + 1, k + 1))
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_rampup_is_the_plain_loop_of_decay_at():
    d, k, rampup = 0.999, 5, 0.5
    w0, ws, got = run_average(d, k, rampup=rampup)
    expected = [w.copy() for w in w0]
    for step, weights in enumerate(ws):
        dt = ema_lib.decay_at(step, d, 0, rampup)
        expected = [dt * e + (1 - dt) * w for e, w in zip(expected, weights)]
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-6)
    # and the rampup did shorten the average: at step 0 the half-life is half a step (d_0 = 0.25, not 0.999)
    assert ema_lib.decay_at(0, d, 0, rampup) == pytest.approx(0.25)
    assert ema_lib.decay_at(10**6, d, 0, rampup) == d


def test_compiled_decay_matches_decay_at():
    import tensorflow as tf

    source, shadow = toy_models()
    average = ema_lib.WeightAverage(source, shadow, 0.99, start_step=4, rampup=0.05)
    for step in (0, 3, 4, 5, 100, 2000, 10**6):
        assert float(average.decay_tensor(tf.constant(step, tf.int64))) == pytest.approx(
            ema_lib.decay_at(step, 0.99, 4, 0.05), rel=1e-6)


def test_refuses_a_decay_outside_0_1_and_a_different_architecture():
    import keras

    source, shadow = toy_models()
    with pytest.raises(ValueError, match="decay"):
        ema_lib.WeightAverage(source, shadow, 1.0)
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="architecture"):
        ema_lib.WeightAverage(source, other, 0.9)
