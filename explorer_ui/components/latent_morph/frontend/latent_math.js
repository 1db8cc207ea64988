// The arithmetic of gan_core.latent_space and gan_core.explore.directions in the browser, in the same float32 steps as
// numpy takes them, so a slider move here lands on the z Python would compute (tests/test_browser_morph.py).
const f32 = Math.fround;

/** latent.truncate: c + psi * (z - c), each step rounded to float32 as numpy does. */
export function truncate(z, psi, noise) {
  const c = noise === "uniform" ? 0.5 : 0.0;
  const p = f32(psi);
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = f32(c + f32(p * f32(z[i] - c)));
  return out;
}

/** Directions.coordinates: (z - centre) @ V.T / z_std, in float64. */
export function coordinates(dirs, z) {
  return dirs.vectors.map((v, k) => {
    let s = 0;
    for (let i = 0; i < z.length; i++) s += (z[i] - dirs.centre) * v[i];
    return s / dirs.z_std[k];
  });
}

/** Directions.move: z + float32(amount * z_std[k]) * V[k], in float32. */
export function move(dirs, z, k, amount) {
  const a = f32(amount * dirs.z_std[k]);
  const v = dirs.vectors[k];
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = f32(z[i] + f32(a * v[i]));
  return out;
}

/** latent.lerp / latent.slerp (float64, then float32, clipped to the cube for uniform noise). */
export function walkPoint(a, b, t, mode, noise) {
  const out = new Float32Array(a.length);
  const lerp = () => { for (let i = 0; i < a.length; i++) out[i] = f32((1 - t) * a[i] + t * b[i]); return out; };
  if (mode === "lerp") return lerp();
  const c = noise === "uniform" ? 0.5 : 0.0;
  let na = 0, nb = 0, dot = 0;
  for (let i = 0; i < a.length; i++) { na += (a[i] - c) ** 2; nb += (b[i] - c) ** 2; }
  na = Math.sqrt(na); nb = Math.sqrt(nb);
  if (na < 1e-12 || nb < 1e-12) return lerp();
  for (let i = 0; i < a.length; i++) dot += ((a[i] - c) / na) * ((b[i] - c) / nb);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot)));
  const norm = (1 - t) * na + t * nb;
  for (let i = 0; i < a.length; i++) {
    const ua = (a[i] - c) / na, ub = (b[i] - c) / nb;
    const d = omega < 1e-6 ? ua : (Math.sin((1 - t) * omega) * ua + Math.sin(t * omega) * ub) / Math.sin(omega);
    let v = d * norm + c;
    if (noise === "uniform") v = Math.min(1, Math.max(0, v));
    out[i] = f32(v);
  }
  return out;
}
