"""Principal directions of a generator's latent space (GANSpace, Härkönen et al. 2020, adapted to DCGANs).

Sample many z, run them through the generator's first hidden block (the first Dense/Conv layer with the
BatchNorm and activation right after it), take PCA of those activations, and map each principal component back to
z-space by regressing z on the PCA coordinates (GANSpace's recipe for networks whose z is not a style vector).
The directions are then orthonormalised in variance order, so PC1 is the move in z that changes the first layer
most and the later ones are independent of the earlier. Computing them takes seconds, so they are cached on disk
beside the generator file (`epoch_0009.keras` -> `epoch_0009.directions.npz`), keyed by the file's content hash.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data import cache_root
from ..errors import ConfigError, ModelError, first_line
from ..files.disk import atomic_write_bytes
from ..latent_space import MAX_SEED, noise_std, sample_z
from ..runs import is_shipped

DEFAULT_K = 10
DEFAULT_N = 4096
MAX_N = 20_000  # z samples: their first-layer features are n x 12,544 floats for mnist_dcgan (1 GB at 20k)
FORMAT = 1  # bump when the computation changes, so old cache files are recomputed
_BATCH = 512
_OVERSAMPLE, _POWER_ITERATIONS = 10, 4  # randomized PCA: extra columns and power iterations (top-k accuracy)
# layers that only rescale or bend the first block's output: the block goes on through them
_BLOCK_LAYERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "LeakyReLU", "ReLU", "ELU",
                 "PReLU", "Activation", "Softmax")


@dataclass(frozen=True)
class Directions:
    """k orthonormal directions in z-space, strongest first, with each one's share of the layer's variance."""
    vectors: np.ndarray  # (k, noise_dim) float32, orthonormal rows
    explained: np.ndarray  # (k,) share of the layer's total activation variance along each principal component
    z_std: np.ndarray  # (k,) the noise's standard deviation along each direction: one slider unit
    layer: str  # which layer's activations, e.g. "dense → batch_normalization → leaky_re_lu"
    n: int
    seed: int
    noise: str
    seconds: float = 0.0  # how long computing them took
    source: str = field(default="computed", compare=False)  # "computed", "disk" or "memory"

    @property
    def k(self) -> int:
        return len(self.vectors)

    def coordinates(self, z: np.ndarray, centre: float = 0.0) -> np.ndarray:
        """Where z sits along each direction, in slider units (standard deviations of the noise)."""
        return (np.asarray(z, np.float64) - centre) @ self.vectors.T.astype(np.float64) / self.z_std

    def move(self, z: np.ndarray, index: int, amount: float) -> np.ndarray:
        """z moved `amount` slider units along direction `index` (the other coordinates stay where they are)."""
        return (np.asarray(z, np.float32) + np.float32(amount * self.z_std[index]) * self.vectors[index]).astype(
            np.float32)

    def top(self, k: int) -> "Directions":
        return replace(self, vectors=self.vectors[:k], explained=self.explained[:k], z_std=self.z_std[:k])


def feature_layers(model) -> list:
    """The generator's first hidden block: its first computing layer plus the normalisation/activation layers
    right after it (Dense → BatchNorm → LeakyReLU in the DCGANs, Dense(relu) → BatchNorm in the MLP GAN). Its output
    is the first place z has been mixed and bent, and is what GANSpace takes PCA of."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if not layers:
        raise ModelError("this generator has no layers to take principal directions of")
    block = [layers[0]]
    for layer in layers[1:]:
        if type(layer).__name__ not in _BLOCK_LAYERS:
            break
        block.append(layer)
    return block


def _features(generator, z: np.ndarray) -> tuple[np.ndarray, str]:
    import keras

    block = feature_layers(generator.model)
    try:
        # a conditional generator's z enters alone first: its first block is the digit's style, not its class
        inputs = generator.model.inputs
        sub = keras.Model(inputs[0] if len(inputs) > 1 else generator.model.input, block[-1].output)
    except Exception as exc:  # noqa: BLE001 - e.g. an uploaded subclassed model with no graph to cut
        raise ModelError(f"cannot read the first hidden layer of this generator ({first_line(exc, 200)}); "
                         "principal directions need a functional or Sequential Keras model") from None
    parts = [np.asarray(sub(z[i:i + _BATCH], training=False), np.float32).reshape(len(z[i:i + _BATCH]), -1)
             for i in range(0, len(z), _BATCH)]
    return np.concatenate(parts), " → ".join(layer.name for layer in block)


def _top_components(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k principal components of centred x (n, d) by randomized SVD (Halko et al. 2011): the layer has
    thousands of units, so a full SVD or covariance would take minutes; this is a few matrix products.
    Returns (coordinates (n, k), variances (k,))."""
    n, d = x.shape
    width = min(k + _OVERSAMPLE, n, d)
    rng = np.random.default_rng(seed + 1)
    q, _ = np.linalg.qr(x @ rng.standard_normal((d, width)).astype(np.float32))
    for _ in range(_POWER_ITERATIONS):
        w, _ = np.linalg.qr(x.T @ q)
        q, _ = np.linalg.qr(x @ w)
    u, s, _ = np.linalg.svd((q.T @ x).astype(np.float64), full_matrices=False)
    coords = (q.astype(np.float64) @ u[:, :k]) * s[:k]
    return coords, s[:k] ** 2 / (n - 1)


def principal_directions(generator, k: int = DEFAULT_K, n: int = DEFAULT_N, seed: int = 0) -> Directions:
    """Compute the top-k principal directions of `generator` from n samples of its noise (always recomputes;
    see load_or_compute for the cached version)."""
    dim = int(generator.noise_dim)
    if not 1 <= k <= dim:
        raise ConfigError(f"the number of directions must be 1..{dim} (the size of z); got {k}")
    if n < 2 * k or n < 16:
        raise ConfigError(f"{n} samples are too few for {k} directions; use at least {max(16, 2 * k)} (default "
                          f"{DEFAULT_N})")
    if n > MAX_N:
        raise ConfigError(f"principal directions take at most {MAX_N} samples (default {DEFAULT_N}); got {n}")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be 0..{MAX_SEED}; got {seed}")
    started = time.perf_counter()
    z = sample_z(seed, (n, dim), generator.noise)
    x, layer = _features(generator, z)
    x -= x.mean(axis=0, dtype=np.float64).astype(np.float32)
    total = float(np.einsum("ij,ij->j", x, x).astype(np.float64).sum()) / (n - 1)  # the layer's total variance
    k_found = min(k, x.shape[1])
    coords, variances = _top_components(x, k_found, seed)
    # z ~ coords @ B: each PC's direction in z, by least squares (the coordinates are uncorrelated)
    zc = z.astype(np.float64) - z.mean(axis=0)
    b, *_ = np.linalg.lstsq(coords, zc, rcond=None)
    q, r = np.linalg.qr(b.T)  # Gram-Schmidt in variance order: column i is b_i minus its part along b_0..b_i-1
    vectors = (q * np.sign(np.diag(r))).T  # keep each direction pointing where its PC coordinate grows
    # the noise's own std, not the sample's along each direction: the directions were picked for where the sample
    # varies, so its std there is biased up (by ~10% for n = 1024 in 100 dimensions)
    z_std = np.full(len(vectors), noise_std(generator.noise))
    explained = variances / total if total > 0 else np.zeros_like(variances)
    return Directions(vectors.astype(np.float32), explained.astype(np.float64), z_std.astype(np.float64), layer,
                      n, seed, generator.noise, round(time.perf_counter() - started, 3))


# --- cache -------------------------------------------------------------------------------------------------------

_memory: dict[tuple, Directions] = {}
_hashes: dict[tuple, str] = {}
_lock = threading.Lock()


def cache_path(generator_file: str | Path) -> Path:
    """`generators/epoch_0009.keras` -> `generators/epoch_0009.directions.npz`."""
    return Path(generator_file).with_suffix(".directions.npz")


def cache_folder(cache_dir: str | Path | None = None) -> Path:
    """Where the directions of a shipped generator that has none beside it are kept (its folder is read-only):
    `<cache>/directions`, the cache being `cache_dir`, else $GAN_EXPLORER_CACHE, else ~/.cache/gan_explorer."""
    return cache_root(cache_dir) / "directions"


def cached_files(cache_dir: str | Path | None = None) -> list[tuple[Path, int]]:
    """(file, bytes) of every directions file in the cache folder (Home's Storage section and `storage` list them;
    they are made again when needed, so removing one loses nothing)."""
    folder = cache_folder(cache_dir)
    try:
        return [(path, path.stat().st_size) for path in sorted(folder.glob("*.directions.npz"))]
    except OSError:
        return []


def _places(source: Path, sha: str) -> list[Path]:
    """Where a generator's directions may be read, first the file beside it; where they are written is the first
    place that is not inside a shipped model (the cache folder, keyed by the generator's content, for those)."""
    beside = cache_path(source)
    return [beside] if not is_shipped(beside) else [beside, cache_folder() / f"{sha}.directions.npz"]


def file_hash(path: str | Path) -> str:
    """sha256 of the generator file (remembered per size and mtime): a copied or checked-out file keeps its key,
    a retrained one gets a new one."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    with _lock:
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


def _meta(sha: str, n: int, seed: int, noise: str) -> dict[str, Any]:
    return {"format": FORMAT, "sha256": sha, "n": n, "seed": seed, "noise": noise}


def _read_cache(path: Path, want: dict[str, Any], k: int) -> Directions | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if {key: meta.get(key) for key in want} != want or int(meta["k"]) < k:
                return None
            return Directions(data["vectors"][:k].astype(np.float32), data["explained"][:k], data["z_std"][:k],
                              meta["layer"], int(meta["n"]), int(meta["seed"]), meta["noise"],
                              float(meta.get("seconds", 0.0)), "disk")
    except (OSError, ValueError, KeyError, TypeError):  # absent, partial or from another version: recompute
        return None


def _write_cache(path: Path, directions: Directions, meta: dict[str, Any]) -> bool:
    if is_shipped(path):  # a shipped model's folder is read-only: its own cache is read, never replaced
        return False
    buf = io.BytesIO()
    info = {**meta, "k": directions.k, "layer": directions.layer, "seconds": directions.seconds}
    np.savez(buf, vectors=directions.vectors, explained=directions.explained, z_std=directions.z_std,
             meta=np.array(json.dumps(info)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the cache folder, the first time
        atomic_write_bytes(path, buf.getvalue())
        return True
    except OSError:  # a read-only folder (pretrained/ in a container): keep them in memory only
        return False


def load_or_compute(generator, k: int = DEFAULT_K, n: int = DEFAULT_N, seed: int = 0) -> Directions:
    """The generator's directions from memory, else from the file beside it, else computed (and written there; for a
    shipped model, whose folder is read-only, into the cache folder instead).

    A cache holding more directions than asked (same n and seed) answers with its first k. A generator with no
    file (source "") is computed every time."""
    source = Path(generator.source) if getattr(generator, "source", "") else None
    if source is None or not source.is_file():
        return principal_directions(generator, k, n, seed)
    meta = _meta(file_hash(source), n, seed, generator.noise)
    key = tuple(meta.values())
    with _lock:
        hit = _memory.get(key)
    if hit is not None and hit.k >= k:
        return replace(hit.top(k), source="memory")
    places = _places(source, meta["sha256"])
    found = next((d for d in (_read_cache(path, meta, k) for path in places) if d is not None), None)
    if found is None:
        found = principal_directions(generator, k, n, seed)
        _write_cache(places[-1], found, meta)
    with _lock:
        if key not in _memory or _memory[key].k < found.k:
            _memory[key] = found
    return found


def format_table(directions: Directions) -> str:
    """What `python -m gan_core directions` prints: each direction's share of the layer's variance."""
    lines = [f"{'PC':>4}  {'variance':>8}  {'cumulative':>10}"]
    total = 0.0
    for i, share in enumerate(directions.explained):
        total += float(share)
        lines.append(f"{i + 1:>4}  {share:>8.1%}  {total:>10.1%}")
    lines.append(f"of the variance of {directions.layer} over {directions.n} {directions.noise} z (seed "
                 f"{directions.seed})")
    return "\n".join(lines)
