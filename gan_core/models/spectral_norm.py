"""Spectral normalisation of a discriminator (Miyato et al. 2018), the ``spectral_norm`` config option.

Every Conv2D and Dense layer of D is replaced by one whose kernel is divided by an estimate of its largest
singular value (of the kernel reshaped to [fan_in, out]), so that no layer can amplify its input by more than
about 1 and D stays smooth: the stabiliser of SN-GAN, SAGAN and BigGAN. The estimate is one power iteration per
training call from a persistent vector ``sn_u``.

Why not ``keras.layers.SpectralNormalization``: Keras 3's wrapper *assigns* W / sigma back into the kernel
variable during the forward pass, so no gradient flows through sigma (the tensorflow/addons discussion of PR
#1244; keras-team/keras#20309). Here, as in the paper and PyTorch's ``spectral_norm``, the raw kernel is the
trainable variable and the forward pass uses W / sigma(W) with u and v held constant, so the loss is invariant
to the kernel's scale and its gradient is orthogonal to the kernel.

Under mixed precision the power iteration runs in float32 on the kernel as the layer computes with it (the
autocast value), and the normalised kernel is cast back to the compute dtype. Under tf.distribute every replica
computes the same u from the same (mirrored) weights; ``sn_u`` is updated with ONLY_FIRST_REPLICA aggregation.
The layers are registered Keras serializables, so a D saved as ``.keras`` loads (safe mode included) once this
module is imported; the trainer keeps D in its tf.train.Checkpoint only.
"""
import keras
from keras import ops

from . import register_discriminator_option


class _Spectral:
    """The shared part of the two layers: the u vector and the normalised kernel."""

    def _build_u(self) -> None:
        self.sn_u = self.add_weight(shape=(1, self.kernel.shape[-1]), name="sn_u", trainable=False,
                                    initializer=keras.initializers.RandomNormal(stddev=1.0), autocast=False,
                                    aggregation="only_first_replica")

    def normalized_kernel(self, training: bool = False):
        """W / sigma(W), sigma from one power iteration; in training, the advanced u is kept for the next call."""
        kernel = ops.cast(self.kernel, "float32")
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = ops.cast(self.sn_u, "float32")
        v = ops.stop_gradient(_unit(ops.matmul(u, ops.transpose(matrix))))
        u = ops.stop_gradient(_unit(ops.matmul(v, matrix)))
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        if training:
            self.sn_u.assign(u)
        return ops.cast(kernel / sigma, self.compute_dtype)

    # Keras's Conv2D and Dense save their kernel and bias by position; u goes beside them, by name.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.built:
            store["sn_u"] = self.sn_u

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.built:
            self.sn_u.assign(store["sn_u"])


def _unit(x):
    return x / ops.sqrt(ops.sum(ops.square(x)) + 1e-12)


@keras.saving.register_keras_serializable(package="gan_explorer")
class SpectralConv2D(_Spectral, keras.layers.Conv2D):
    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=None):
        outputs = self.convolution_op(inputs, self.normalized_kernel(bool(training)))
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1,) * (self.rank + 1) + (self.filters,)))
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="gan_explorer")
class SpectralDense(_Spectral, keras.layers.Dense):
    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=None):
        x = ops.matmul(inputs, self.normalized_kernel(bool(training)))
        if self.bias is not None:
            x = ops.add(x, self.bias)
        return self.activation(x) if self.activation is not None else x


_SPECTRAL = {keras.layers.Conv2D: SpectralConv2D, keras.layers.Dense: SpectralDense}


def spectral_normalize(model: keras.Model) -> keras.Model:
    """A copy of `model` (a functional D) with every Conv2D and Dense spectrally normalised; other layers and the
    layer names are kept. Channels-last convolutions only (as every architecture here)."""

    def clone(layer):
        spectral = _SPECTRAL.get(type(layer))
        if spectral is None:
            return layer.__class__.from_config(layer.get_config())
        config = layer.get_config()
        if config.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"{layer.name}: spectral normalisation here supports channels_last convolutions only")
        return spectral.from_config(config)

    return keras.models.clone_model(model, clone_function=clone)


register_discriminator_option("spectral_norm", spectral_normalize)
