// Pixels: the generator's raw output as Generator.images_uint8 maps it, and a block's tile as grey.
const f32 = Math.fround;

/** images NHWC raw -> uint8 RGBA exactly as Generator.images_uint8: round(clip(to_unit(x), 0, 1) * 255). */
export function toImageData(raw, h, w, c, pixelRange) {
  const out = new ImageData(w, h);
  const px = out.data;
  const tanh = pixelRange === "tanh";
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) {
      let v = raw[p * c + (c === 1 ? 0 : k)];
      v = tanh ? f32(f32(v + 1) / 2) : v;
      v = Math.min(1, Math.max(0, v));
      px[p * 4 + k] = Math.round(f32(v * 255));
    }
    px[p * 4 + 3] = 255;
  }
  return out;
}

export function tileImage(data, h, w, tiles, t, low, high) {
  const out = new ImageData(w, h);
  const span = high > low ? high - low : 1;
  for (let p = 0; p < h * w; p++) {
    const g = Math.round(Math.min(1, Math.max(0, (data[p * tiles + t] - low) / span)) * 255);
    out.data[p * 4] = out.data[p * 4 + 1] = out.data[p * 4 + 2] = g;
    out.data[p * 4 + 3] = 255;
  }
  return out;
}
