// The Latent page's editor in the browser: the generator (ONNX, onnxruntime-web's wasm backend, vendored beside
// this file) runs here on every `input` event of the sliders, so the image follows the thumb while it moves.
// Python keeps the state: on release (debounced) one message sends z, psi and the class back; nothing else goes to
// the server while dragging. Two modes share one runtime and one session per model (keyed by its sha256):
//   "editor": z sliders (a page of ten), principal-direction sliders, truncation psi, the class; the image and
//             G's blocks as tiles under it.
//   "walk":   the lerp/slerp walk between two z, with a scrubber and Play, each frame drawn here.
// Everything the server sends is shown as text (textContent); nothing here builds HTML from data.
// Test hook: window.__latentMorph (see the end of this file).
import * as ort from "./vendor/onnxruntime-web/ort.wasm.min.mjs";
import { clip, decodeBase64, el, slider } from "./dom.js";
import { coordinates, move, truncate, walkPoint } from "./latent_math.js";
import { tileImage, toImageData } from "./pixels.js";

const VENDOR = new URL("./vendor/onnxruntime-web/", import.meta.url).href;
const sessions = new Map(); // sha256 -> Promise<{session, meta}>
const roots = new WeakMap(); // parentElement -> the instance's state
const live = new Set(); // every instance's state: the test hook and the walk read the editor's z
const stats = { renders: [], frames: 0, inputs: 0, released: 0, times: { module: performance.now() } };
let ortReady = false;
// An 82-byte ONNX graph, y = Identity(x): a session of it starts the wasm runtime (fetch, compile, instantiate) while
// the server still loads the generator and draws the page (mode "warm", mounted by the page before anything else).
const WARM_MODEL = "CAgSDGdhbi1leHBsb3Jlcjo6ChAKAXgSAXkiCElkZW50aXR5EgR3YXJtWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEQ==";
let warming = null;

function setUpRuntime() {
  if (ortReady) return;
  ort.env.wasm.wasmPaths = VENDOR;
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a Streamlit page does not have
  ort.env.wasm.proxy = false;
  ortReady = true;
}

function warmUp() {
  if (!warming) {
    setUpRuntime();
    warming = ort.InferenceSession.create(decodeBase64(WARM_MODEL), { executionProviders: ["wasm"] })
      .then(() => { stats.times.warm = performance.now(); })
      .catch(() => {}); // the real model's session reports any failure
  }
  return warming;
}

/** The session for `model` (sha256), created from its bytes once per page; null if neither held nor sent. */
function sessionFor(model) {
  if (sessions.has(model.sha256)) return sessions.get(model.sha256);
  if (!model.bytes_b64) return null;
  setUpRuntime();
  stats.times.bytes ??= performance.now();
  const made = ort.InferenceSession.create(decodeBase64(model.bytes_b64), {
    executionProviders: ["wasm"], graphOptimizationLevel: "all",
  }).then((session) => { stats.times.session ??= performance.now(); return { session, meta: model }; });
  made.catch(() => sessions.delete(model.sha256));
  sessions.set(model.sha256, made);
  return made;
}

/** One generator call for z (already truncated) in class `cls`: draws the image and the block tiles. */
async function render(s, z, cls) {
  const { session, meta } = await s.ready;
  const started = performance.now();
  const feeds = { [meta.inputs.z]: new ort.Tensor("float32", z, [1, z.length]) };
  if (meta.inputs.label) feeds[meta.inputs.label] = new ort.Tensor("int32", Int32Array.of(cls ?? 0), [1]);
  const fetches = [meta.output, ...(s.tiles ? meta.blocks.map((b) => b.output) : [])];
  const out = await session.run(feeds, fetches);
  const [h, w, c] = meta.image_shape;
  const pixels = toImageData(out[meta.output].data, h, w, c, meta.pixel_range);
  s.ctx.putImageData(pixels, 0, 0);
  if (s.tiles) {
    meta.blocks.forEach((b, i) => {
      const [bh, bw, bt] = b.shape;
      const data = out[b.output].data;
      s.tileCanvases[i].forEach((canvas, t) => {
        canvas.getContext("2d").putImageData(tileImage(data, bh, bw, bt, t, b.ranges[t][0], b.ranges[t][1]), 0, 0);
      });
    });
  }
  for (const tensor of Object.values(out)) tensor.dispose?.();
  const ms = performance.now() - started;
  stats.renders.push(ms);
  stats.frames += 1;
  s.lastPixels = pixels;
  s.frameNo += 1;
  s.root.dataset.frame = String(s.frameNo);
  s.root.hidden = false; // shown from its first frame on: never an empty canvas
  stats.times.frame ??= performance.now();
  return pixels;
}

/** Ask for a frame: one generator call at a time; moves that come while one runs are drawn next, latest first. */
function schedule(s) {
  s.wanted = true;
  if (s.busy) return s.busy;
  s.busy = (async () => {
    try {
      while (s.wanted) {
        s.wanted = false;
        const [z, cls] = s.frameInput();
        await render(s, z, cls);
        s.afterFrame?.();
      }
    } catch (err) {
      s.status.textContent = `The browser could not run the generator: ${err?.message ?? err}`;
    } finally {
      s.busy = null;
    }
  })();
  return s.busy;
}

// --- the editor ----------------------------------------------------------------------------------------------------

function buildEditor(s, parent) {
  const d = s.data;
  const [h, w] = d.model.image_shape;
  s.root = el("div", { class: "morph-root", "data-testid": "latentMorph", "data-mode": "editor" });
  s.root.hidden = true;
  const left = el("div", { class: "morph-left" });
  const right = el("div", { class: "morph-right" });
  s.canvas = el("canvas", { width: w, height: h, class: "morph-image", role: "img", "aria-label": "Generated image" });
  s.canvas.style.width = `${d.display_px}px`;
  s.canvas.style.height = `${Math.round((d.display_px * h) / w)}px`;
  s.ctx = s.canvas.getContext("2d", { willReadFrequently: true });
  s.caption = el("div", { class: "morph-caption" });
  s.status = el("div", { class: "morph-status", role: "status" });
  s.psiSlider = slider("Truncation ψ", 0, d.max_psi, 0.05, s.psi, (v) => { s.psi = v; changed(s); }, () => released(s));
  left.append(s.canvas, s.caption, s.psiSlider.wrap);
  if (d.model.num_classes) {
    const group = el("div", { class: "morph-classes", role: "radiogroup", "aria-label": d.class_title });
    group.append(el("span", { class: "morph-name" }, d.class_title));
    s.classInputs = d.class_names.map((name, i) => {
      const id = `c${Math.random().toString(36).slice(2)}`;
      const input = el("input", { type: "radio", name: `cls${s.uid}`, id, value: i });
      input.checked = i === s.cls;
      input.addEventListener("input", () => { s.cls = i; changed(s); });
      input.addEventListener("change", () => released(s));
      const label = el("label", { for: id }, name);
      group.append(input, label);
      return input;
    });
    left.append(group);
  }
  s.tiles = Boolean(d.tiles && d.model.blocks.length);
  s.tileCanvases = [];
  if (s.tiles) {
    const box = el("div", { class: "morph-blocks", "aria-label": "G's blocks" });
    for (const b of d.model.blocks) {
      const row = el("div", { class: "morph-block" });
      row.append(el("div", { class: "morph-block-label" }, b.label));
      const cells = el("div", { class: "morph-tiles" });
      const canvases = b.tiles.map((caption) => {
        const c = el("canvas", { width: b.shape[1], height: b.shape[0], title: caption, "aria-label": caption });
        c.style.width = `${d.tile_px}px`;
        c.style.height = `${Math.round((d.tile_px * b.shape[0]) / b.shape[1])}px`;
        cells.append(c);
        return c;
      });
      row.append(cells);
      box.append(row);
      s.tileCanvases.push(canvases);
    }
    left.append(box);
  }
  // the slider families: z dimensions, a page at a time, or principal directions
  const head = el("div", { class: "morph-head" });
  s.modeSelect = el("select", { "aria-label": "Sliders" });
  for (const m of d.slider_modes) s.modeSelect.append(el("option", { value: m }, m));
  s.modeSelect.value = s.mode;
  s.modeSelect.addEventListener("change", () => { s.mode = s.modeSelect.value; drawSliders(s); });
  head.append(el("span", { class: "morph-name" }, "Sliders"), s.modeSelect);
  s.pageSelect = el("select", { "aria-label": "Dimensions" });
  const pages = Math.ceil(d.model.noise_dim / d.dims_per_page);
  for (let p = 0; p < pages; p++) {
    const last = Math.min(d.model.noise_dim, (p + 1) * d.dims_per_page) - 1;
    s.pageSelect.append(el("option", { value: p }, `z[${p * d.dims_per_page}] … z[${last}]`));
  }
  s.pageSelect.addEventListener("change", () => { s.page = Number(s.pageSelect.value); drawSliders(s); });
  if (pages > 1) head.append(s.pageSelect);
  s.sliderBox = el("div", { class: "morph-sliders" });
  s.note = el("div", { class: "morph-note" });
  right.append(head, s.sliderBox, s.note);
  s.root.append(left, right);
  parent.append(s.root, s.status);
  s.frameInput = () => [truncate(s.z, s.psi, d.model.noise), s.cls];
  drawSliders(s);
}

function drawSliders(s) {
  const d = s.data;
  s.sliderBox.replaceChildren();
  s.sliders = [];
  s.pageSelect.hidden = s.mode !== d.slider_modes[0];
  if (s.mode === d.slider_modes[0]) {
    s.note.textContent = "";
    const [lo, hi, step] = d.z_range;
    const first = s.page * d.dims_per_page;
    for (let i = first; i < Math.min(d.model.noise_dim, first + d.dims_per_page); i++) {
      const sl = slider(`z[${i}]`, lo, hi, step, clip(s.z[i], lo, hi), (v) => {
        s.z[i] = v; changed(s);
      }, () => released(s));
      s.sliders.push(sl);
      s.sliderBox.append(sl.wrap);
    }
  } else if (!d.directions) {
    s.note.textContent = d.directions_error || "No principal directions for this generator.";
  } else {
    const dirs = d.directions;
    const coords = coordinates(dirs, s.z);
    dirs.vectors.forEach((_, k) => {
      const shown = clip(Math.round(coords[k] / d.pc_step) * d.pc_step, -d.pc_range, d.pc_range);
      const sl = slider(dirs.labels[k], -d.pc_range, d.pc_range, d.pc_step, Number(shown.toFixed(2)), (v) => {
        s.z = move(dirs, s.z, k, v - coordinates(dirs, s.z)[k]); changed(s);
      }, () => released(s));
      sl.input.title = dirs.helps[k];
      s.sliders.push(sl);
      s.sliderBox.append(sl.wrap);
    });
    s.note.textContent = dirs.caption;
  }
}

function norm(z, c) { let t = 0; for (const v of z) t += (v - c) ** 2; return Math.sqrt(t); }

function drawCaption(s) {
  const d = s.data;
  let edited = false;
  for (let i = 0; i < s.z.length; i++) if (s.z[i] !== s.originZ[i]) { edited = true; break; }
  const cls = d.model.num_classes ? `${d.class_names[s.cls]} · ` : "";
  const c = d.model.noise === "uniform" ? 0.5 : 0;
  s.caption.textContent = `${cls}${d.origin_label}${edited ? " (edited)" : ""} · ψ = ${s.psi.toFixed(2)} · ` +
    `‖z‖ = ${norm(s.z, c).toFixed(2)}`;
}

function changed(s) {
  stats.inputs += 1;
  clearTimeout(s.releaseTimer); // a move after a release restarts the wait
  drawCaption(s);
  schedule(s);
}

/** Release: after a quiet moment, one message with z, psi and the class; Python continues from exactly these. */
function released(s) {
  clearTimeout(s.releaseTimer);
  s.releaseTimer = setTimeout(() => {
    s.seq += 1;
    stats.released += 1;
    s.setStateValue("latent", { z: Array.from(s.z), psi: s.psi, cls: s.cls, seq: s.seq, sha256: s.data.model.sha256 });
  }, s.data.release_ms);
}

/** Adopt what Python sends when it changed there (a seed, Reset, arithmetic, a projection); a rerun that only
 * echoes the browser's own release leaves the sliders as the user left them. */
function adopt(s, d) {
  const key = JSON.stringify([d.z, d.origin_z, d.psi, d.cls]);
  if (key === s.adopted) return false;
  s.adopted = key;
  const same = s.z && s.z.length === d.z.length && d.z.every((v, i) => Math.fround(v) === s.z[i]) &&
    s.psi === d.psi && s.cls === (d.cls ?? 0);
  if (same) { // the rerun after this page's own release: keep the sliders (a new drag may have begun)
    s.originZ = Float32Array.from(d.origin_z);
    return false;
  }
  s.z = Float32Array.from(d.z);
  s.originZ = Float32Array.from(d.origin_z);
  s.psi = d.psi;
  s.cls = d.cls ?? 0;
  return true;
}

// --- the walk -------------------------------------------------------------------------------------------------------

function buildWalk(s, parent) {
  const d = s.data;
  const [h, w] = d.model.image_shape;
  s.root = el("div", { class: "morph-root morph-walk", "data-testid": "latentWalk", "data-mode": "walk" });
  s.canvas = el("canvas", { width: w, height: h, class: "morph-image", role: "img", "aria-label": "Walk frame" });
  s.canvas.style.width = `${d.display_px}px`;
  s.canvas.style.height = `${Math.round((d.display_px * h) / w)}px`;
  s.ctx = s.canvas.getContext("2d", { willReadFrequently: true });
  s.tiles = false;
  const controls = el("div", { class: "morph-walk-controls" });
  s.play = el("button", { type: "button", class: "morph-play" }, "Play");
  s.scrub = slider("Walk position t", 0, 1, 0.001, 0, (v) => { s.t = v; schedule(s); }, () => {});
  s.play.addEventListener("click", () => togglePlay(s));
  controls.append(s.play, s.scrub.wrap);
  s.caption = el("div", { class: "morph-caption" });
  s.status = el("div", { class: "morph-status", role: "status" });
  s.root.append(s.canvas, controls, s.caption);
  parent.append(s.root, s.status);
  s.t = 0;
  s.frameInput = () => [walkPoint(s.walkA, s.walkB, s.t, d.walk_mode, d.model.noise), d.cls];
  s.afterFrame = () => { s.caption.textContent = `${d.walk_caption} · t = ${s.t.toFixed(3)}`; };
}

function togglePlay(s) {
  if (s.playing) { s.playing = false; s.play.textContent = "Play"; return; }
  s.playing = true;
  s.play.textContent = "Pause";
  const period = s.data.play_seconds * 1000;
  const start = performance.now() - s.t * period;
  const step = (now) => {
    if (!s.playing) return;
    const phase = ((now - start) / period) % 2; // forth and back, as the GIF
    s.t = phase <= 1 ? phase : 2 - phase;
    s.scrub.set(s.t);
    if (!s.busy) schedule(s); // at display rate: a frame per animation frame the runtime can keep up with
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

// --- mounting -------------------------------------------------------------------------------------------------------

let uids = 0;
const loaded = new Set(); // sha256 of the models whose session is ready
const failed = {}; // sha256 -> why it would not load

/** What the page tells Python: WebAssembly or not, which models it holds, which failed. Sent only when it
 * differs from what Python last heard (data.report), so a rerun never answers with another rerun. */
function tell(data, setStateValue) {
  const wasm = typeof WebAssembly === "object" && typeof WebAssembly.instantiate === "function";
  const report = { wasm, held: [...loaded].sort(), failed: { ...failed }, why: wasm ? "" : "this browser has no WebAssembly" };
  const known = data.report || {};
  const same = known.wasm === report.wasm && JSON.stringify([...(known.held || [])].sort()) === JSON.stringify(report.held) &&
    JSON.stringify(known.failed || {}) === JSON.stringify(report.failed);
  if (!same) setStateValue("browser", report);
  return wasm;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (data.mode === "warm") { warmUp(); return undefined; }
  let s = roots.get(parentElement);
  const fresh = !s || s.data.model.sha256 !== data.model.sha256 || s.data.mode !== data.mode ||
    JSON.stringify(s.data.model.blocks) !== JSON.stringify(data.model.blocks);
  if (fresh) {
    if (s) { s.playing = false; live.delete(s); s.box.remove(); }
    s = { uid: uids++, seq: 0, frameNo: 0, mode: data.slider_modes?.[0], page: 0, box: el("div") };
    roots.set(parentElement, s); // Streamlit keeps its own <div> (our CSS) in parentElement: ours goes beside it
    live.add(s);
    parentElement.append(s.box);
  }
  s.setStateValue = setStateValue;
  s.data = data;
  const editor = data.mode === "editor";
  const ready = sessionFor(data.model);
  if (!ready) { // Python thinks this page holds the model and it does not (a reload): the report asks for it
    if (editor) tell(data, setStateValue);
    return undefined;
  }
  s.ready = ready;
  if (!editor) {
    if (fresh) buildWalk(s, s.box);
    s.walkA = Float32Array.from(data.a);
    s.walkB = Float32Array.from(data.b);
    s.afterFrame();
  } else {
    const adopted = adopt(s, data);
    if (fresh) buildEditor(s, s.box);
    if (adopted || fresh) {
      s.psiSlider.set(s.psi);
      s.classInputs?.forEach((input, i) => { input.checked = i === s.cls; });
      drawSliders(s);
    }
    drawCaption(s);
  }
  ready.then(() => {
    loaded.add(data.model.sha256);
    if (editor) tell(data, setStateValue);
    return schedule(s);
  }).catch((err) => {
    const why = `the browser could not load the generator (${String(err?.message ?? err).split("\n")[0]})`;
    s.status.textContent = why;
    failed[data.model.sha256] = why;
    if (editor) tell(data, setStateValue);
  });
  return () => { s.playing = false; live.delete(s); };
}

// Test and benchmark hook (documented in the README): set z (and psi, class) on the page's editor, draw, and read
// back the canvas as uint8 RGBA; the render times per frame; how many releases were sent.
window.__latentMorph = {
  editor() { return [...live].find((s) => s.data.mode === "editor"); },
  walk() { return [...live].find((s) => s.data.mode === "walk"); },
  async draw(z, psi = 1, cls = 0) {
    const s = this.editor();
    s.z = Float32Array.from(z);
    s.psi = psi;
    s.cls = cls;
    changed(s);
    await schedule(s);
    return Array.from(s.ctx.getImageData(0, 0, s.canvas.width, s.canvas.height).data);
  },
  /** Move z along principal direction k to slider value `value` as the PC slider does, then draw. */
  async drawMoved(z, k, value, psi = 1, cls = 0) {
    const dirs = this.editor().data.directions;
    const zz = Float32Array.from(z);
    return this.draw(move(dirs, zz, k, value - coordinates(dirs, zz)[k]), psi, cls);
  },
  pixels(which = "editor") {
    const s = this[which]();
    return Array.from(s.ctx.getImageData(0, 0, s.canvas.width, s.canvas.height).data);
  },
  z() { return Array.from(this.editor().z); },
  stats,
  reset() { stats.renders = []; stats.frames = 0; stats.inputs = 0; stats.released = 0; },
};
