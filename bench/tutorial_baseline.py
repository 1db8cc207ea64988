"""The TF DCGAN tutorial's training loop exactly as written, timed: the benchmarks' baseline.

Run as a script: `python bench/tutorial_baseline.py --steps 40 [--data mnist.npz] [--warmup 3]`. Prints one JSON line
with images/s measured over the steps after the warm-up (tracing excluded), like gan_core's own windows, and each
step's time (`step_ms`, the call alone; `images_per_sec` also counts the data pipeline between calls).

`--preset NAME` runs the same loop on another preset's networks (gan_core's builders, float32, with Keras's own
BatchNormalization, as the notes write them), batch size, Adam settings and data (`--data` then names its
folder): the baseline of bench/train_throughput.py for the face presets, whose note (the colour faces note) trains with
Keras's slow train_on_batch.

For quality comparisons (bench/quality_at_speed.py) it also trains whole epochs and/or for a training time, saving
the generator after every epoch (and at the time cut-off):

    python bench/tutorial_baseline.py --epochs 6 [--seconds T] --save-dir DIR [--limit N]

DIR gets epoch_NNNN.keras (Keras 3 ``.save``), config.json (what gan_core's Generator needs to read them: noise
normal, noise_dim 100, pixel_range tanh, dataset mnist) and timeline.jsonl, one line per saved generator:
``{"epoch", "steps", "images", "train_seconds", "path", "partial"}`` with train_seconds cumulative training time
(tracing included, saving excluded). The training step, data pipeline and optimisers are untouched.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

BUFFER_SIZE = 60000
BATCH_SIZE = 256
noise_dim = 100


def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((7, 7, 256)))
    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"))
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same", input_shape=[28, 28, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model


cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


def with_keras_batchnorm(model):
    """`model` rebuilt (fresh weights) with Keras's own BatchNormalization where gan_core's builders put their fused
    one (gan_core.models.batchnorm): the layer the notes' authors write."""
    from gan_core.models import batchnorm

    def clone(layer):
        kind = tf.keras.layers.BatchNormalization if isinstance(layer, batchnorm.BatchNormalization) else type(layer)
        return kind.from_config(layer.get_config())

    return tf.keras.models.clone_model(model, clone_function=clone)


def preset_networks(preset: str, data: str, limit: int | None):
    """A gan_core preset's float32 networks, Adam optimizers, batch size, noise size and training images: what
    a note's author would write for them, to be trained by the TF DCGAN tutorial's loop."""
    from gan_core import config as config_lib
    from gan_core import data as data_lib
    from gan_core import models

    cfg = config_lib.from_preset(preset, {"precision": "float32", "data": data, "limit": limit})
    images, _ = data_lib.load_images(cfg.dataset, path=cfg.data, image_size=cfg.image_size, channels=cfg.channels,
                                     pixel_range=cfg.pixel_range, limit=cfg.limit)
    generator = with_keras_batchnorm(models.get(cfg.architecture).build_generator(cfg))
    discriminator = with_keras_batchnorm(models.build_discriminator(cfg))
    g_opt = tf.keras.optimizers.Adam(cfg.g_lr, beta_1=cfg.beta_1)
    d_opt = tf.keras.optimizers.Adam(cfg.d_lr, beta_1=cfg.beta_1)
    return images, generator, discriminator, g_opt, d_opt, cfg.batch_size, cfg.noise_dim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"))
    ap.add_argument("--save-generator", help="write the trained generator here (.keras) for quality comparisons")
    ap.add_argument("--seconds", type=float, help="train for this training time instead of --steps (the step that "
                    "passes it is the last)")
    ap.add_argument("--epochs", type=int, help="train this many whole epochs instead of --steps (with --seconds: "
                    "whichever comes first)")
    ap.add_argument("--save-dir", help="save the generator after every epoch (and at the --seconds cut-off) here, "
                    "with timeline.jsonl and config.json")
    ap.add_argument("--limit", type=int, help="use only the first N training images (smoke tests)")
    ap.add_argument("--preset", help="the same loop on this gan_core preset's networks, batch size, Adam and data "
                    "(not with --save-dir)")
    args = ap.parse_args()
    if args.preset and args.save_dir:
        ap.error("--save-dir writes the TF DCGAN tutorial's config.json: it cannot go with --preset")

    batch_size, latent_dim = BATCH_SIZE, noise_dim
    if args.preset:
        train_images, generator, discriminator, generator_optimizer, discriminator_optimizer, batch_size, \
            latent_dim = preset_networks(args.preset, args.data, args.limit)
    else:
        train_images = np.load(args.data)["x_train"]
        if args.limit:
            train_images = train_images[:args.limit]
        train_images = train_images.reshape(train_images.shape[0], 28, 28, 1).astype("float32")
        train_images = (train_images - 127.5) / 127.5
        generator = make_generator_model()
        discriminator = make_discriminator_model()
        generator_optimizer = tf.keras.optimizers.Adam(1e-4)
        discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)
    train_dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(BUFFER_SIZE).batch(batch_size)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([batch_size, latent_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    save_dir = Path(args.save_dir) if args.save_dir else None
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        (save_dir / "timeline.jsonl").write_text("")
        (save_dir / "config.json").write_text(json.dumps(
            {"name": "tutorial_baseline", "architecture": "mnist_dcgan", "dataset": "mnist", "data": args.data,
             "noise": "normal", "noise_dim": noise_dim, "pixel_range": "tanh", "image_size": 28, "channels": 1,
             "batch_size": BATCH_SIZE, "g_lr": 1e-4, "d_lr": 1e-4, "limit": args.limit}, indent=2))
    paused = 0.0  # seconds spent saving, left out of the training time

    def train_seconds() -> float:
        return time.perf_counter() - start - paused

    def save(epoch: int, partial: bool) -> None:
        nonlocal paused
        t = time.perf_counter()
        path = save_dir / f"epoch_{epoch:04d}.keras"
        generator.save(path)
        with open(save_dir / "timeline.jsonl", "a") as f:
            f.write(json.dumps({"epoch": epoch, "steps": steps, "images": all_images,
                                "train_seconds": round(seconds, 3), "path": str(path), "partial": partial}) + "\n")
        paused += time.perf_counter() - t

    step_ms: list[float] = []
    steps, images, t0, start = 0, 0, None, time.perf_counter()
    all_images, paused_at_t0, seconds = 0, 0.0, 0.0
    epochs = 0
    while True:
        epochs += 1
        for image_batch in train_dataset:
            called = time.perf_counter()
            train_step(image_batch)
            if steps >= args.warmup:
                step_ms.append(round(1000 * (time.perf_counter() - called), 1))
            steps += 1
            all_images += int(image_batch.shape[0])
            if steps == args.warmup:
                t0, images, paused_at_t0 = time.perf_counter(), 0, paused
            elif steps > args.warmup:
                images += int(image_batch.shape[0])
            if args.seconds:
                done = train_seconds() >= args.seconds
            else:
                done = args.epochs is None and steps >= args.warmup + args.steps
            if done:
                break
        else:
            seconds = train_seconds()
            if save_dir is not None:
                save(epochs, partial=False)
            if args.epochs is not None and epochs >= args.epochs:
                break
            continue
        seconds = train_seconds()
        if save_dir is not None:  # the cut-off's step may also have been the epoch's last
            save(epochs, partial=all_images < epochs * len(train_images))
        break
    elapsed = time.perf_counter() - t0 - (paused - paused_at_t0) if t0 is not None else float("nan")
    if args.save_generator:
        generator.save(args.save_generator)
    after_warmup = max(steps - args.warmup, 0)
    print(json.dumps({"name": "tutorial_baseline", "steps": after_warmup, "images_per_sec": images / elapsed,
                      "seconds_per_step": elapsed / after_warmup if after_warmup else float("nan"),
                      "wall_s": time.perf_counter() - start, "epochs": epochs, "total_steps": steps,
                      "train_seconds": round(seconds, 3), "train_images": all_images, "batch_size": batch_size,
                      "step_ms": step_ms}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
