// Small DOM helpers: every text from the server goes in as textContent, never as HTML.
export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = String(text);
  return node;
}

export function decodeBase64(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function slider(labelText, min, max, step, value, onInput, onChange) {
  const id = `m${Math.random().toString(36).slice(2)}`;
  const wrap = el("div", { class: "morph-slider" });
  const label = el("label", { for: id });
  const name = el("span", { class: "morph-name" }, labelText);
  const shown = el("span", { class: "morph-value" }, Number(value).toFixed(2));
  label.append(name, shown);
  const input = el("input", { type: "range", id, min, max, step, "aria-label": labelText });
  input.value = String(value);
  input.addEventListener("input", () => { shown.textContent = Number(input.value).toFixed(2); onInput(Number(input.value)); });
  input.addEventListener("change", () => onChange(Number(input.value)));
  wrap.append(label, input);
  return { wrap, input, shown, set(v) { input.value = String(v); shown.textContent = Number(input.value).toFixed(2); } };
}

export function clip(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }
