"""Every config field, declared once: what every run has (RUN), then each task's own section (LATENT, PIX2PIX,
CYCLEGAN). Each task names its section in its ``Task`` (gan_core.tasks); the config object, its validation, ``--set``
and the Train form are all derived from these declarations. They live here, below the tasks, because the config
object is built from them and the config sits below everything that trains.

Adding a knob: one :class:`Setting` in the owning section (its default, range, help and expander) and a test; the
code that reads ``cfg.<name>`` is the only other change.
"""
from __future__ import annotations

from .. import data, devices, models
from ..algorithm import objectives
from ..algorithm.augment import POLICIES, parse_policy
from ..data import PIXEL_RANGES, SOURCES
from .settings import DATA, DEVICE, FIXED, GAN, IMAGES, OPTIMISER, REGULARISE, SNAPSHOTS, TRANSLATION
from .settings import Section, Setting

MAX_SEED = 2**32 - 1  # numpy's and Keras's seeds
LEARNING_RATE = dict(kind=float, low=0, high=1, open_low=True, open_high=True, hint="e.g. 2e-4",
                     form_range=(1e-6, 0.5), step=1e-5, format="%.5f")
EVERY = dict(low=1, high=10_000, high_why="more epochs than a run has")


def _batch_within_limit(cfg) -> str | None:
    if cfg.limit is not None and cfg.batch_size > cfg.limit:
        return (f"batch_size {cfg.batch_size} is more than the {cfg.limit} images limit keeps: lower batch_size to "
                f"{cfg.limit} or less, or raise limit")
    return None


def _size_fits_architecture(cfg) -> str | None:
    problem = models.get(cfg.architecture).check_size(cfg.image_size)
    return f"image_size: {problem}" if problem else None


def _folder_has_a_path(cfg) -> str | None:
    if cfg.dataset == "folder" and not cfg.data:
        return (f"preset {cfg.preset!r} trains on a folder of images: pass --data /path/to/images (for example "
                "CelebA's img_align_celeba folder)")
    return None


RUN = Section("run", "every run", (
    Setting("preset", "mnist_dcgan", "the recipe this run started from", group=FIXED),
    Setting("architecture", "mnist_dcgan", "the networks (gan_core/models/), set by the preset", group=FIXED),
    Setting("name", "", "the run folder is NNNNN-name (default: the preset's name)", label="Run name"),
    # data: picked above the form (the picker decides which fields show)
    Setting("dataset", "mnist", "where the (domain A) images come from", group=DATA, choices=SOURCES),
    Setting("data", None, "a file or folder; empty = the dataset's standard location", group=DATA, kind=str,
            optional=True),
    Setting("limit", None, "keep the first N training images (empty = all)", label="Use only the first N images",
            kind=int, optional=True, low=1, hint="or left out for all images"),
    # optimisation
    Setting("epochs", 50, "passes over the training images", label="Epochs", low=1, high=100_000,
            high_why="a run that would never end"),
    Setting("batch_size", 256, "images per step", label="Batch size", low=1, high=65_536,
            high_why="more than any accelerator holds", form_range=(1, 8192)),
    Setting("g_lr", 1e-4, "Adam's learning rate for G", label="G learning rate", **LEARNING_RATE),
    Setting("d_lr", 1e-4, "Adam's learning rate for D", label="D learning rate", **LEARNING_RATE),
    Setting("seed", 0, "seeds the weights, the shuffling and the noise: the same seed trains the same run",
            label="Random seed", low=0, high=MAX_SEED),
    # the images and the networks
    Setting("image_size", 28, "side of the square images in pixels (the architecture says which sizes it makes)",
            label="Image size (px)", group=IMAGES, low=1, high=1024, high_why="the networks here are for 28-256 px"),
    Setting("channels", 1, "1 = grayscale, 3 = RGB", label="Channels", group=IMAGES, choices=(1, 3),
            choice_labels={1: "1 (grayscale)", 3: "3 (RGB)"}),
    Setting("pixel_range", "tanh", "the pixels G makes: tanh = [-1, 1], sigmoid = [0, 1]", label="Pixel range",
            group=IMAGES, choices=PIXEL_RANGES),
    Setting("filters", 64, "base width of dcgan64 and the image-to-image networks (64 is the papers'); the other "
            "architectures have fixed widths", label="Network width (filters)", group=IMAGES, low=1, high=1024,
            high_why="no network here is that wide"),
    # the optimiser and what happens when a loss turns NaN
    Setting("beta_1", 0.9, "Adam's beta_1: 0.5 is DCGAN's choice, Keras's default 0.9 the TF DCGAN tutorial's",
            label="Adam β1", group=OPTIMISER, low=0, high=1, open_high=True, form_range=(0.0, 0.999), step=0.1,
            format="%.2f"),
    Setting("beta_2", 0.999, "Adam's beta_2", label="Adam β2", group=OPTIMISER, low=0, high=1, open_high=True,
            form_range=(0.0, 0.9999), step=0.001, format="%.4f"),
    Setting("clip_norm", 0.0, "> 0: each net's gradients clipped to this global norm (the grayscale faces note's "
            "tip when losses explode: e.g. 1.0); 0 = off", label="Gradient clipping (global norm, 0 = off)",
            group=OPTIMISER, low=0, hint="0 is off; e.g. 1.0", step=0.5),
    Setting("nan_retries", 2, "roll-backs to the last checkpoint after a NaN/Inf loss before the run fails",
            label="NaN roll-backs", group=OPTIMISER, low=0, high=100, high_why="a run that keeps diverging"),
    Setting("nan_lr_scale", 0.5, "the learning rates are multiplied by this at each roll-back",
            label="Learning-rate scale per roll-back", group=OPTIMISER, low=0, high=1, open_low=True, step=0.1),
    # snapshots, checkpoints and quality
    Setting("grid", 4, "the fixed-latent snapshot grid is grid x grid images", label="Snapshot grid (n x n)",
            group=SNAPSHOTS, low=1, high=32, high_why="the snapshot grid is grid x grid images"),
    Setting("snapshot_every", 1, "epochs between snapshot grids", label="Snapshot grid every (epochs)",
            group=SNAPSHOTS, **EVERY),
    Setting("checkpoint_every", 1, "epochs between checkpoints (a stop always checkpoints too)",
            label="Checkpoint every (epochs)", group=SNAPSHOTS, **EVERY),
    Setting("generator_every", 1, "epochs between saved generators (generators/epoch_NNNN.keras)",
            label="Save the generator every (epochs)", group=SNAPSHOTS, **EVERY),
    Setting("log_every", 5, "steps per metrics window (one point of the live curves)", label="Log every (steps)",
            group=SNAPSHOTS, low=1, high=100_000, high_why="a run with no curves"),
    Setting("eval_every", 0, "epochs between quality evaluations into quality.jsonl: classifier-FID and class "
            "coverage for digits, SWD for image folders; the Snapshots page charts it. Costs seconds for digits, a "
            "minute or two for faces", label="Measure quality every (epochs)", group=SNAPSHOTS, low=0, high=10_000,
            high_why="more epochs than a run has", zero="off"),
    Setting("eval_n", 0, "samples per evaluation; 0 = the quick defaults (2000 digits, 500 faces)",
            label="Samples per quality evaluation", group=SNAPSHOTS, low=0, high=100_000,
            high_why="an evaluation that outlasts the run", zero="the quick defaults"),
    # where and how fast it runs (none of these changes the training math)
    Setting("precision", "auto", "auto: mixed_bfloat16 where this machine computes bfloat16 natively (GPUs of "
            "compute capability 8.0+, CPUs with AVX512-BF16 or AMX) and float32 elsewhere; mixed_float16 is for GPUs "
            "only. Resolved to a concrete value in the saved run", label="Precision", group=DEVICE,
            choices=("auto", "float32", "mixed_bfloat16", "mixed_float16")),
    Setting("device", "auto", "cpu keeps the GPU free (e.g. for the app); gpu:N trains on that GPU alone",
            label="Train on", group=DEVICE, check=devices.check_train_device, form_choices=devices.train_device_choices,
            choice_labels={"auto": "auto (TensorFlow's first GPU, else the CPU)", "cpu": "CPU only"}),
    Setting("strategy", "default", "mirrored splits each batch over the GPUs (the CPU alone without one). Several "
            "machines (multiworker: TF_CONFIG says the cluster) are launched one command per machine: README, "
            "Several machines", label="Strategy (tf.distribute)", group=DEVICE,
            choices=("default", "mirrored", "multiworker"), form_choices=lambda: ("default", "mirrored"),
            choice_labels={"default": "default (one device)", "mirrored": "mirrored (every GPU of this machine)"}),
    Setting("jit_compile", "auto", "XLA: auto = on with a GPU (fusing the step's small ops usually pays there), off on "
            "a CPU, where XLA measured about 0.55x the images/s (bench/train_throughput.py). XLA or not trains the "
            "same weights (tests/test_xla.py), bar Dropout's random masks", label="XLA (jit_compile)", group=DEVICE,
            choices=("auto", "on", "off")),
    Setting("steps_per_call", 1, "optimizer steps per compiled call (fewer Python round trips; same math)",
            label="Steps per compiled call", group=DEVICE, low=1, high=10_000, high_why="a call that never returns"),
    Setting("threads", 0, "TensorFlow's intra-op threads", label="Threads (0 = TensorFlow's default)",
            group=DEVICE, low=0, high=1024, high_why="TensorFlow crashes creating that many",
            zero="TensorFlow's default"),
    Setting("inter_op_threads", 0, "TensorFlow's inter-op threads", label="Inter-op threads (0 = TensorFlow's default)",
            group=DEVICE, low=0, high=1024, high_why="TensorFlow crashes creating that many",
            zero="TensorFlow's default"),
), rules=(_batch_within_limit, _size_fits_architecture))
LAST_RULES = (_folder_has_a_path,)  # after the task's rules: a missing path is the last thing to fix


# --- the latent GAN (z -> image) ------------------------------------------------------------------------------------

def _smoothing_means_something(cfg) -> str | None:
    if cfg.real_label != 1 and not objectives.get(cfg.loss).smoothing:
        return (f"real_label (label smoothing) means nothing to the {cfg.loss} loss: set real_label=1, or use loss "
                "bce or lsgan")
    return None


def _classes_fit_the_architecture(cfg) -> str | None:
    conditional = models.get(cfg.architecture).conditional
    if conditional and cfg.num_classes < 2:
        return (f"{cfg.architecture} is class-conditional: set num_classes to the dataset's number of classes (10 for "
                f"mnist and fashion_mnist); got {cfg.num_classes}")
    if not conditional and cfg.num_classes:
        return (f"{cfg.architecture} takes no class label; leave num_classes at 0 or pick a conditional architecture "
                f"({', '.join(models.conditional_names())})")
    if cfg.num_classes and cfg.dataset == "folder":
        return "class-conditional training needs labelled data: use dataset mnist or fashion_mnist (a folder of " \
               "images has no labels)"
    return None


LATENT = Section("latent", "latent GANs (noise -> image)", (
    Setting("noise_dim", 100, "the length of z, G's input", label="Noise dimensions", low=1, high=4096,
            high_why="z of 100-512 is usual", form_range=(1, 2048)),
    Setting("noise", "normal", "z's distribution: normal N(0, 1) or uniform [-1, 1]", label="Noise distribution",
            group=GAN, choices=("normal", "uniform")),
    Setting("loss", "bce", "the GAN objective (gan_core/algorithm/objectives.py)", label="Loss", group=GAN,
            choices=objectives.names),
    Setting("real_label", 1.0, "D's target for real images: 1 = none; 0.9 is one-sided smoothing (the colour faces "
            "note). bce and lsgan only", label="Real label (label smoothing)", group=GAN, low=0.5, high=1,
            open_low=True, hint="0.9 is usual smoothing", form_range=(0.51, 1.0), step=0.05, format="%.2f"),
    Setting("update", "simultaneous", "simultaneous: one pass, both nets update (the TF DCGAN tutorial); "
            "alternating: D first, then G through the new D (the two faces notes)", label="Update order", group=GAN,
            choices=("simultaneous", "alternating"),
            choice_labels={"simultaneous": "simultaneous (the TF DCGAN tutorial: one pass, both update)",
                           "alternating": "alternating (the two faces notes: D first, then G through the new D)"}),
    Setting("d_steps", 1, "k: G learns on every k-th batch, D on all (WGAN's n_critic is 5)",
            label="D steps per G step", group=GAN, low=1, high=100, high_why="G would hardly learn"),
    Setting("d_joint_batch", False, "D sees real and fake as one batch (matters when D has BatchNorm: the colour "
            "faces note)", label="D sees real and fake in one batch", group=GAN),
    Setting("num_classes", 0, "> 0: class-conditional (G and D also take a one-hot label); conditional "
            "architectures only, on a labelled dataset", label="Classes (0 = unconditional)", group=GAN, low=0,
            high=1000, high_why="more classes than any labelled set here", zero="unconditional"),
    Setting("gp_weight", 10.0, "wgan-gp: the gradient penalty's weight (the paper's lambda)",
            label="Gradient penalty weight (wgan-gp)", group=REGULARISE, low=0, high=1e6,
            high_why="a penalty that drowns the loss"),
    Setting("r1_gamma", 0.0, "> 0: the R1 penalty gamma / 2 x ||grad D(real)||^2 on D, with any loss; 0 = off",
            label="R1 gamma (0 = off)", group=REGULARISE, low=0, high=1e6,
            high_why="a penalty that drowns the loss"),
    Setting("r1_every", 1, "R1 every k-th step, k times as strong (StyleGAN2's lazy regularisation: 16)",
            label="R1 every (steps)", group=REGULARISE, low=1, high=10_000, high_why="R1 would never run"),
    Setting("spectral_norm", False, "every Conv2D and Dense of D spectrally normalised "
            "(gan_core/models/spectral_norm.py)", label="Spectral norm on D", group=REGULARISE),
    Setting("augment", "", "DiffAugment before D: the same random augmentation of real and fake images; helps "
            "small data", label="DiffAugment (before D)", group=REGULARISE, choices=POLICIES, many=True,
            check=parse_policy),
    Setting("ema_decay", 0.0, "the app shows a moving average of G's weights, e.g. 0.999: smoother; 0 = off",
            label="EMA of G (decay, 0 = off)", group=REGULARISE, low=0, high=1, open_high=True,
            hint="0 = off, 0.999 is usual", form_range=(0.0, 0.99999), step=0.001, format="%.4f"),
    Setting("ema_start_step", 0, "the average copies G until this step, then averages (skips the untrained start)",
            label="EMA starts at step", group=REGULARISE, low=0, high=10**12, high_why="a step no run reaches"),
    Setting("ema_rampup", 0.0, "> 0: the average's half-life is at most this share of the steps so far "
            "(StyleGAN2: 0.05)", label="EMA ramp-up (share of steps, 0 = off)", group=REGULARISE, low=0, high=1,
            hint="0 = off, StyleGAN2 uses 0.05", step=0.01, format="%.2f"),
), rules=(_smoothing_means_something, _classes_fit_the_architecture))


# --- image to image: Pix2Pix (paired) and CycleGAN (unpaired) -------------------------------------------------------

def _tanh_pixels(cfg) -> str | None:
    if cfg.pixel_range != "tanh":
        return f"{cfg.architecture} works on pixels in [-1, 1]: pixel_range must be tanh"
    return None


HOLDOUT = Setting("holdout", 500, "folder data: the last N images are held out for snapshots and quality (digits "
                  "use their test split)", label="Held-out images", group=TRANSLATION, low=0, high=10**9,
                  high_why="more images than any folder here")


def _pairs_can_be_made(cfg) -> str | None:
    if cfg.pairing == "side_by_side" and cfg.dataset != "folder":
        return ("the side_by_side pairing reads a folder of A|B images: use dataset folder and --data FOLDER, or "
                "make pairs from digits with pairing edges or masked")
    if cfg.pairing == "grayscale" and cfg.channels != 3:
        return ("the grayscale pairing colourises: it needs channels=3 (RGB images); for gray images use the edges "
                "or masked pairing")
    return None


PIX2PIX = Section("pix2pix", "Pix2Pix (paired image -> image)", (
    Setting("pairing", "", "what each input is: edges | grayscale | masked (made from the images) or side_by_side "
            "(A|B files)", label="Pairing (what each input is)", group=DATA, choices=data.PAIRING_CHOICES,
            hint="how the input of each pair is made",
            choice_labels={"edges": "edges → image (Sobel edge map)", "grayscale": "grayscale → colour",
                           "masked": "masked → full (fill a hole)",
                           "side_by_side": "A|B files, side by side (left → right)"}),
    Setting("direction", "AtoB", "side_by_side pairs: AtoB = the left half is the input", label="Direction (A|B files)",
            group=TRANSLATION, choices=data.DIRECTIONS),
    Setting("l1_weight", 100.0, "pix2pix's lambda: the L1 distance to the target beside the GAN loss",
            label="L1 weight (λ)", group=TRANSLATION, low=0, step=10.0),
    Setting("keep_luminance", True, "grayscale -> colour: G predicts colour only, the input's brightness is kept",
            label="Keep the input's brightness (grayscale pairing)", group=TRANSLATION),
    HOLDOUT,
), rules=(_tanh_pixels, _pairs_can_be_made))


def _two_domains(cfg) -> str | None:
    if cfg.dataset_b == "folder" and not cfg.data_b:
        return "domain B is a folder of images: pass --set data_b=/path/to/images"
    if cfg.dataset_b == cfg.dataset and cfg.data_b == cfg.data and cfg.dataset != "folder":
        return f"domains A and B are both {cfg.dataset}: pick two different image sets"
    return None


CYCLEGAN = Section("cyclegan", "CycleGAN (unpaired image <-> image)", (
    Setting("dataset_b", "", "domain B's source (domain A is dataset)", group=DATA, choices=SOURCES,
            hint="domain B; domain A is dataset"),
    Setting("data_b", None, "domain B's file or folder", group=DATA, kind=str, optional=True),
    Setting("cycle_weight", 10.0, "cyclegan's lambda: how much A -> B -> A must come back to A",
            label="Cycle weight (λ)", group=TRANSLATION, low=0, step=1.0),
    Setting("identity_weight", 0.5, "the identity loss's weight as a share of cycle_weight (the paper's 0.5)",
            label="Identity weight (share of λ)", group=TRANSLATION, low=0, step=0.1),
    Setting("res_blocks", 6, "residual blocks in G (the paper: 6 at 128 px, 9 at 256 px)", label="Residual blocks",
            group=TRANSLATION, low=0, high=64, high_why="far deeper than the paper's 9"),
    Setting("pool_size", 50, "how many past fakes D draws from (the paper's image pool); 0 = none",
            label="Fake pool size (0 = none)", group=TRANSLATION, low=0, high=10_000,
            high_why="more fakes than memory holds", zero="none"),
    HOLDOUT,
), rules=(_tanh_pixels, _two_domains))

TASK_SECTIONS = {section.name: section for section in (LATENT, PIX2PIX, CYCLEGAN)}
