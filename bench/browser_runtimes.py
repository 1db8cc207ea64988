"""onnxruntime-web against TensorFlow.js for the in-browser morph: per-frame time and pixels, in headless Chromium.

    python bench/browser_runtimes.py [--models mnist_dcgan faces_rgb64] [--tfjs DIR]

onnxruntime-web: the vendored files and each model's browser graph (gan_core.explore.browser_model), with and
without its block outputs. TensorFlow.js (optional, `--tfjs DIR`): DIR holds `dist/` (tf-core.min.js,
tf-converter.min.js, tf-backend-wasm.min.js and its .wasm files, from `npm pack` of @tensorflow/tfjs-core,
-converter, -backend-wasm) and `<model>/model.json` + shards, converted from `python -m gan_core export-model MODEL
--formats savedmodel` by `tensorflowjs_converter --input_format=tf_saved_model --signature_name=serve` (that
converter pins TensorFlow 2.19: run it in a virtual environment of its own). Both run batch 1, wasm, one thread,
from a plain HTTP server (no cross-origin isolation, as under Streamlit). Each figure: p50 / p95 of 60 calls after
a warm-up, and max |diff| of the uint8 pixels against Generator.images_uint8 on seeds 0..15.
Writes bench/results/browser_runtimes.json.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from gan_core import latent_space
from gan_core.explore import browser_model, export_onnx, export_serving
from gan_core.files import pictures
from gan_core.inference import Generator
from gan_core.runs import resolve_run

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "explorer_ui/components/latent_morph/frontend/vendor/onnxruntime-web"
TFJS_FILES = ("tf-core.min.js", "tf-converter.min.js", "tf-backend-wasm.min.js", "tfjs-backend-wasm.wasm",
              "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm")
PAGE = """<!doctype html><script src=tfjs/tf-core.min.js></script><script src=tfjs/tf-converter.min.js></script>
<script src=tfjs/tf-backend-wasm.min.js></script><script type=module>
import * as ort from './ort/ort.wasm.min.mjs';
ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href; ort.env.wasm.numThreads = 1;
async function timed(call, zs, repeats) {
  const images = []; for (let i = 0; i < zs.length; i++) images.push(Array.from(await call(zs[i])));
  const times = []; for (let r = 0; r < repeats; r++) { const t = performance.now(); await call(zs[r % zs.length]);
    times.push(performance.now() - t); }
  return {images, times};
}
window.ort_run = async (file, zs, labels, repeats) => {
  const s = await ort.InferenceSession.create(new Uint8Array(await (await fetch(file)).arrayBuffer()));
  let i = 0;
  return timed(async (z) => { const f = {z: new ort.Tensor('float32', Float32Array.from(z), [1, z.length])};
    if (labels) f.label = new ort.Tensor('int32', Int32Array.of(labels[i++ % labels.length]), [1]);
    return (await s.run(f)).images.data; }, zs, repeats);
};
window.tfjs_run = async (dir, zs, repeats) => {
  tf.wasm.setWasmPaths(new URL('./tfjs/', location.href).href); await tf.setBackend('wasm'); await tf.ready();
  const model = await tf.loadGraphModel(dir + '/model.json');
  return timed(async (z) => { const t = tf.tensor2d([z], [1, z.length]); const o = model.execute({z: t});
    const d = await o.data(); t.dispose(); o.dispose(); return d; }, zs, repeats);
};
window.ready = true;
</script>"""


def serve(folder: Path):
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def figures(name: str, result: dict, generator: Generator, z: np.ndarray, labels) -> dict:
    raw = np.array(result["images"], np.float32).reshape(len(z), *generator.image_shape)
    diff = np.abs(pictures.to_uint8(raw, generator.pixel_range).astype(int)
                  - generator.images_uint8(z, labels).astype(int)).max()
    times = np.array(result["times"])
    row = {"case": name, "p50_ms": round(float(np.percentile(times, 50)), 1),
           "p95_ms": round(float(np.percentile(times, 95)), 1), "max_abs_diff_uint8": int(diff)}
    print(f"{name:38s} per frame p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  max |diff| {diff}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mnist_dcgan", "faces_rgb64"])
    parser.add_argument("--tfjs", type=Path, help="folder with dist/ and converted models (see above)")
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        shutil.copytree(VENDOR, site / "ort")
        (site / "tfjs").mkdir()
        if args.tfjs:
            for name in TFJS_FILES:
                shutil.copy(args.tfjs / "dist" / name, site / "tfjs")
        (site / "index.html").write_text(PAGE)
        generators = {}
        for name in args.models:
            generators[name] = g = Generator.from_run(resolve_run(ROOT / "pretrained" / name))
            (site / f"{name}.onnx").write_bytes(browser_model.convert(g).onnx)
            function, signature = export_serving.serving_function(g)
            (site / f"{name}_plain.onnx").write_bytes(export_onnx.to_onnx(function, signature).SerializeToString())
            if args.tfjs:
                shutil.copytree(args.tfjs / name, site / f"{name}_tfjs")
        server = serve(site)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("window.ready")
                for name, g in generators.items():
                    z = latent_space.z_from_seeds(range(16), g.noise_dim, g.noise)
                    labels = (np.arange(16) % g.num_classes) if g.num_classes else None
                    sent = [z.tolist(), None if labels is None else labels.tolist(), args.repeats]
                    for case, file in ((f"{name} ort, image only", f"{name}_plain.onnx"),
                                       (f"{name} ort, image + blocks", f"{name}.onnx")):
                        result = page.evaluate("([f, z, l, r]) => window.ort_run(f, z, l, r)", [file, *sent])
                        rows.append(figures(case, result, g, z, labels))
                    if args.tfjs and labels is None:
                        result = page.evaluate("([d, z, r]) => window.tfjs_run(d, z, r)",
                                               [f"{name}_tfjs", z.tolist(), args.repeats])
                        rows.append(figures(f"{name} tfjs wasm, image only", result, g, z, labels))
                browser.close()
        finally:
            server.shutdown()
    out = ROOT / "bench" / "results" / "browser_runtimes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
