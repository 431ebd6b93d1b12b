// Wires the page together: inputs -> /api/analyze -> every panel.
import * as api from './api.js';
import { DrawPad } from './draw-pad.js';
import {
  decodeQ, flatten, range, renderAtlas, renderGray, renderLegend, hitTest, placeMarker, fmt, widen, legendLabels,
} from './heatmap.js';
import { renderBars, argmax } from './bars.js';
import { loadGalleryIndex, loadDigit, renderGallery, markActive } from './gallery.js';
import { RoutingView } from './routing.js';
import { ReconstructionView } from './sliders.js';

const DRAW_DEBOUNCE_MS = 150;
const $ = (id) => document.getElementById(id);

const state = {
  source: null, // {kind: 'pixels'|'dataurl'|'file', ...}
  iterations: 3,
  analysis: null,
  conv1: null, // decoded [256, 20, 20]
  conv1Max: 1,
  primaryLengths: null, // Float32Array 32*6*6
  primaryVectors: null, // decoded [32, 6, 6, 8]
  primaryLayout: null,
  capsule: null, // {type, row, col}
  capsulePicked: false,
  kernels: null, // decoded [256, 9, 9]
  kernelLimit: 1,
  kernelLayout: null,
  kernelPinned: null,
  kernelShown: 0,
  reluLayout: null,
  analysisCount: 0,
  galleryButtons: [],
};

// ---------------------------------------------------------------- status line

const statusEl = $('status');
function setStatus(message, kind = 'info') {
  statusEl.textContent = message;
  statusEl.dataset.kind = kind;
  statusEl.classList.toggle('error', kind === 'error');
}
function showError(err) {
  setStatus(err && err.message ? err.message : String(err), 'error');
}

// body[data-busy] is present while a drawing waits to be sent or an analysis runs.
let drawTimer = 0;
function updateBusy() {
  // Called from inside a finishing task too, hence the check for queued work only.
  const busy = Boolean(drawTimer) || Boolean(analysisQueue.pending) || analysisQueue.busy;
  if (busy) document.body.dataset.busy = 'true';
  else document.body.removeAttribute('data-busy');
}

// ---------------------------------------------------------------- views

const routingView = new RoutingView({
  heat: $('routing-heat'),
  marker: $('routing-marker'),
  legend: $('routing-legend'),
  bars: $('routing-bars'),
  step: $('routing-step'),
  prev: $('routing-prev'),
  next: $('routing-next'),
  play: $('routing-play'),
  position: $('routing-position'),
  digit: $('routing-digit'),
  digitName: $('routing-digit-name'),
  summary: $('routing-summary'),
  caption: $('routing-caption'),
  stretch: $('routing-stretch'),
}, { onSelectCapsule: (t, r, c) => selectCapsule(t, r, c, true) });

const reconView = new ReconstructionView({
  canvas: $('reconstruction'),
  sliders: $('sliders'),
  digit: $('recon-digit'),
  reset: $('recon-reset'),
  sweepButton: $('sweep-button'),
  sweep: $('sweep'),
  sweepNote: $('sweep-note'),
  vectorNote: $('vector-note'),
}, { onError: showError });

for (let d = 0; d < 10; d += 1) {
  $('recon-digit').append(new Option(String(d), String(d)));
  $('routing-digit').append(new Option(`digit ${d}`, String(d)));
}
for (let n = 1; n <= 10; n += 1) $('routing-iterations').append(new Option(String(n), String(n)));
$('routing-iterations').value = String(state.iterations);

renderLegend($('relu-legend'), 'viridis', ['0', '', '', '', 'max']);

// ---------------------------------------------------------------- analysis

const analysisQueue = new api.LatestQueue(showError);

function analyse(source, { abortCurrent = true } = {}) {
  state.source = source;
  const iterations = state.iterations;
  reconView.cancel();
  analysisQueue.submit(async (signal) => {
    setStatus('Analysing\u2026', 'busy');
    const started = performance.now();
    try {
      const result = await api.analyze(source, iterations, signal);
      if (signal.aborted) return;
      renderAnalysis(result);
      setStatus(`Analysed in ${Math.round(performance.now() - started)} ms with ${iterations} routing iteration${iterations === 1 ? '' : 's'}.`, 'ok');
    } finally {
      // The queue is still marked running here; only clear busy if nothing else waits.
      if (!analysisQueue.pending && !drawTimer) document.body.removeAttribute('data-busy');
    }
  }, { abortCurrent });
  updateBusy();
}

function renderAnalysis(result) {
  state.analysis = result;
  state.analysisCount += 1;

  // Input and prediction.
  renderGray($('seen'), result.input);
  renderGray($('seen-copy'), result.input);
  const prediction = $('prediction');
  prediction.textContent = String(result.prediction);
  prediction.dataset.seq = String(state.analysisCount);
  const length = result.digit_caps.lengths[result.prediction];
  $('confidence').textContent = `capsule length ${length.toFixed(2)}`;

  // ReLU maps.
  state.conv1 = decodeQ(result.conv1);
  state.conv1Max = Math.max(state.conv1.max, 1e-6);
  state.reluLayout = renderAtlas($('relu-maps'), state.conv1.data, {
    count: 256, h: 20, w: 20, cols: 16, gap: 2, min: 0, max: state.conv1Max,
  });
  renderLegend($('relu-legend'), 'viridis', ['0', fmt(state.conv1Max / 4), fmt(state.conv1Max / 2), fmt((3 * state.conv1Max) / 4), fmt(state.conv1Max)]);
  if (state.kernelPinned === null) state.kernelShown = strongestChannel();
  showKernel(state.kernelPinned ?? state.kernelShown);

  // Primary capsules.
  state.primaryLengths = flatten(result.primary_caps.lengths);
  state.primaryVectors = decodeQ(result.primary_caps.vectors);
  renderPrimaryCaps();

  // Routing, digit capsules, reconstruction.
  routingView.setData(result.routing, result.prediction);
  renderBars($('digit-caps'), result.digit_caps.lengths, { winner: result.prediction });
  renderDigitVectors(result.digit_caps.vectors);
  reconView.setData(result);

  if (!state.capsulePicked || !state.capsule) {
    const best = argmax(state.primaryLengths);
    state.capsule = { type: Math.floor(best / 36), row: Math.floor((best % 36) / 6), col: best % 6 };
  }
  selectCapsule(state.capsule.type, state.capsule.row, state.capsule.col, false);
}

function renderPrimaryCaps() {
  if (!state.primaryLengths) return;
  const stretch = $('primary-stretch').checked;
  const r = range(state.primaryLengths);
  const { min, max } = stretch ? widen(r.min, r.max) : { min: 0, max: 1 };
  state.primaryLayout = renderAtlas($('primary-caps'), state.primaryLengths, {
    count: 32, h: 6, w: 6, cols: 8, gap: 1, min, max,
  });
  renderLegend($('primary-legend'), 'viridis', legendLabels(min, max));
}
$('primary-stretch').addEventListener('change', renderPrimaryCaps);

function strongestChannel() {
  const { data } = state.conv1;
  let best = 0;
  let bestSum = -1;
  for (let k = 0; k < 256; k += 1) {
    let sum = 0;
    for (let i = k * 400; i < (k + 1) * 400; i += 1) sum += data[i];
    if (sum > bestSum) {
      bestSum = sum;
      best = k;
    }
  }
  return best;
}

function renderDigitVectors(vectors) {
  const data = flatten(vectors);
  const { min, max } = range(data);
  const a = Math.max(Math.abs(min), Math.abs(max), 1e-6);
  renderAtlas($('digit-vectors'), data, { count: 1, h: 10, w: 16, cols: 1, min: -a, max: a });
}

// ---------------------------------------------------------------- conv1 kernels

async function loadKernels() {
  try {
    const result = await api.getJSON('/api/conv1/kernels');
    state.kernels = decodeQ(result.kernels);
    const a = Math.max(Math.abs(state.kernels.min), Math.abs(state.kernels.max), 1e-6);
    state.kernelLimit = a;
    state.kernelLayout = renderAtlas($('conv1-kernels'), state.kernels.data, {
      count: state.kernels.shape[0], h: 9, w: 9, cols: 16, gap: 1, min: -a, max: a,
    });
    renderLegend($('kernel-legend'), 'viridis', [`\u2212${a.toFixed(2)} (negative)`, '0', `+${a.toFixed(2)} (positive)`]);
    showKernel(state.kernelPinned ?? state.kernelShown);
  } catch (err) {
    showError(err);
  }
}

function showKernel(k) {
  state.kernelShown = k;
  $('kernel-index').value = String(k);
  placeMarker($('kernel-marker'), state.kernelLayout, k);
  placeMarker($('relu-marker'), state.reluLayout, k);
  const parts = [`Filter ${k}`];
  if (state.kernels) {
    const a = state.kernelLimit;
    renderAtlas($('kernel-big'), state.kernels.data, { count: 1, h: 9, w: 9, cols: 1, min: -a, max: a, offset: k * 81 });
    const w = state.kernels.data.subarray(k * 81, (k + 1) * 81);
    const r = range(w);
    parts.push(`weights ${fmt(r.min)} to ${fmt(r.max)}`);
  }
  if (state.conv1) {
    const map = state.conv1.data.subarray(k * 400, (k + 1) * 400);
    const r = range(map);
    renderAtlas($('kernel-relu'), map, { count: 1, h: 20, w: 20, cols: 1, min: 0, max: Math.max(r.max, 1e-6) });
    if (r.max <= 1e-6) {
      parts.push('it does not fire anywhere on this input');
    } else {
      const at = argmax(map);
      parts.push(`strongest response ${fmt(r.max)} at row ${Math.floor(at / 20)}, column ${at % 20} (map scaled to its own maximum)`);
    }
  }
  $('kernel-caption').textContent = `${parts.join('; ')}.`;
}

const kernelCanvas = $('conv1-kernels');
kernelCanvas.addEventListener('pointermove', (e) => {
  const hit = hitTest(kernelCanvas, state.kernelLayout, e);
  if (hit && hit.index !== state.kernelShown) showKernel(hit.index);
});
kernelCanvas.addEventListener('pointerleave', () => {
  if (state.kernelPinned !== null && state.kernelPinned !== state.kernelShown) showKernel(state.kernelPinned);
});
kernelCanvas.addEventListener('click', (e) => {
  const hit = hitTest(kernelCanvas, state.kernelLayout, e);
  if (!hit) return;
  state.kernelPinned = hit.index;
  showKernel(hit.index);
});
kernelCanvas.addEventListener('keydown', (e) => {
  const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -16, ArrowDown: 16 };
  if (!(e.key in moves)) return;
  e.preventDefault();
  const k = Math.max(0, Math.min(255, state.kernelShown + moves[e.key]));
  state.kernelPinned = k;
  showKernel(k);
});
$('kernel-index').addEventListener('input', () => {
  const k = Number($('kernel-index').value);
  if (Number.isInteger(k) && k >= 0 && k <= 255) {
    state.kernelPinned = k;
    showKernel(k);
  }
});

const reluCanvas = $('relu-maps');
reluCanvas.addEventListener('pointermove', (e) => {
  const hit = hitTest(reluCanvas, state.reluLayout, e);
  if (!hit || !state.conv1) return;
  const v = state.conv1.data[hit.index * 400 + hit.y * 20 + hit.x];
  $('relu-caption').textContent = `Map ${hit.index} (made by filter ${hit.index}): value ${fmt(v)} at row ${hit.y}, column ${hit.x}. Click to show this filter in panel 1.`;
});
reluCanvas.addEventListener('click', (e) => {
  const hit = hitTest(reluCanvas, state.reluLayout, e);
  if (!hit) return;
  state.kernelPinned = hit.index;
  showKernel(hit.index);
});

// ---------------------------------------------------------------- primary capsules

function selectCapsule(type, row, col, picked) {
  state.capsule = { type, row, col };
  if (picked) state.capsulePicked = true;
  placeMarker($('primary-marker'), state.primaryLayout, type, row, col);
  routingView.select(type, row, col);
  if (!state.primaryVectors) return;
  const base = ((type * 6 + row) * 6 + col);
  const vector = Array.from(state.primaryVectors.data.subarray(base * 8, base * 8 + 8));
  const length = state.primaryLengths[base];
  const coupling = routingView.finalCoupling(type, row, col);
  const vote = coupling ? argmax(coupling) : null;
  $('capsule-title').textContent = `Capsule type ${type}, row ${row}, column ${col}: length ${length.toFixed(3)}. `
    + (vote === null ? '' : `It votes for digit ${vote} (coupling ${coupling[vote].toFixed(3)} in the last routing iteration).`);
  const a = Math.max(...vector.map(Math.abs), 1e-6);
  $('capsule-vector').replaceChildren(...vector.map((v, i) => {
    const li = document.createElement('li');
    li.title = `Dimension ${i}: ${v.toFixed(4)}`;
    const num = document.createElement('span');
    num.className = 'num';
    num.textContent = fmt(v, 3);
    const bar = document.createElement('span');
    bar.className = 'mini-bar';
    const fill = document.createElement('span');
    fill.className = v < 0 ? 'mini-fill negative' : 'mini-fill';
    fill.style.width = `${(50 * Math.abs(v)) / a}%`;
    fill.style.left = v < 0 ? `${50 - (50 * Math.abs(v)) / a}%` : '50%';
    bar.append(fill);
    li.append(num, bar);
    return li;
  }));
  drawSquashPlot();
}

const primaryCanvas = $('primary-caps');
primaryCanvas.addEventListener('click', (e) => {
  const hit = hitTest(primaryCanvas, state.primaryLayout, e);
  if (hit) selectCapsule(hit.index, hit.y, hit.x, true);
});
primaryCanvas.addEventListener('pointermove', (e) => {
  const hit = hitTest(primaryCanvas, state.primaryLayout, e);
  if (!hit || !state.primaryLengths) {
    primaryCanvas.title = '';
    return;
  }
  const v = state.primaryLengths[(hit.index * 6 + hit.y) * 6 + hit.x];
  primaryCanvas.title = `Type ${hit.index}, row ${hit.y}, column ${hit.x}: length ${v.toFixed(3)}`;
});
primaryCanvas.addEventListener('keydown', (e) => {
  if (!state.capsule) return;
  let { type, row, col } = state.capsule;
  switch (e.key) {
    case 'ArrowLeft': col -= 1; break;
    case 'ArrowRight': col += 1; break;
    case 'ArrowUp': row -= 1; break;
    case 'ArrowDown': row += 1; break;
    case 'PageUp': type -= 1; break;
    case 'PageDown': type += 1; break;
    default: return;
  }
  e.preventDefault();
  selectCapsule((type + 32) % 32, (row + 6) % 6, (col + 6) % 6, true);
});

// ---------------------------------------------------------------- squash plot

function drawSquashPlot() {
  const canvas = $('squash-plot');
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 560;
  const cssHeight = Math.round(cssWidth * (240 / 560));
  if (canvas.width !== Math.round(cssWidth * dpr)) {
    canvas.width = Math.round(cssWidth * dpr);
    canvas.height = Math.round(cssHeight * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const W = cssWidth;
  const H = cssHeight;
  const m = { l: 44, r: 14, t: 14, b: 36 };
  const xMax = 4;
  const X = (n) => m.l + (Math.min(n, xMax) / xMax) * (W - m.l - m.r);
  const Y = (v) => H - m.b - v * (H - m.t - m.b);
  ctx.fillStyle = '#171a21';
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#3a3f4b';
  ctx.lineWidth = 1;
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = '#9aa3b2';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let n = 0; n <= xMax; n += 1) {
    ctx.beginPath();
    ctx.moveTo(X(n), m.t);
    ctx.lineTo(X(n), H - m.b);
    ctx.stroke();
    ctx.fillText(n === xMax ? `\u2265${n}` : String(n), X(n), H - m.b + 4);
  }
  ctx.fillText('length before squashing \u2016s\u2016', (m.l + W - m.r) / 2, H - 16);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of [0, 0.5, 1]) {
    ctx.beginPath();
    ctx.moveTo(m.l, Y(v));
    ctx.lineTo(W - m.r, Y(v));
    ctx.stroke();
    ctx.fillText(String(v), m.l - 6, Y(v));
  }
  ctx.save();
  ctx.translate(12, (m.t + H - m.b) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText('after', 0, 0);
  ctx.restore();
  // The curve.
  ctx.strokeStyle = '#35b779';
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i <= 200; i += 1) {
    const n = (i / 200) * xMax;
    const v = (n * n) / (1 + n * n);
    if (i === 0) ctx.moveTo(X(n), Y(v));
    else ctx.lineTo(X(n), Y(v));
  }
  ctx.stroke();
  if (!state.primaryLengths) return;
  // Every capsule: invert the squash to place it on the curve.
  ctx.fillStyle = 'rgba(120, 160, 255, 0.35)';
  for (let i = 0; i < state.primaryLengths.length; i += 1) {
    const v = Math.min(state.primaryLengths[i], 0.9999);
    const n = Math.sqrt(v / (1 - v));
    ctx.beginPath();
    ctx.arc(X(n), Y(v), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  if (state.capsule) {
    const { type, row, col } = state.capsule;
    const v = Math.min(state.primaryLengths[(type * 6 + row) * 6 + col], 0.9999);
    const n = Math.sqrt(v / (1 - v));
    ctx.fillStyle = '#fde725';
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(X(n), Y(v), 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = '#e6e9ef';
    const right = n > xMax * 0.6;
    const below = Y(v) - 22 < m.t;
    ctx.textAlign = right ? 'right' : 'left';
    ctx.textBaseline = below ? 'top' : 'bottom';
    ctx.fillText(`\u2016s\u2016 = ${n.toFixed(2)} \u2192 length ${v.toFixed(3)}`,
      X(n) + (right ? -10 : 10), below ? Y(v) + 10 : Y(v) - 8);
  }
}
let resizeFrame = 0;
window.addEventListener('resize', () => {
  if (resizeFrame) return;
  resizeFrame = requestAnimationFrame(() => {
    resizeFrame = 0;
    drawSquashPlot();
  });
});

// ---------------------------------------------------------------- drawing

const pad = new DrawPad($('draw'));

function analyseDrawing() {
  if (drawTimer) clearTimeout(drawTimer);
  drawTimer = 0;
  if (!pad.hasInk) {
    updateBusy();
    return;
  }
  markActive(state.galleryButtons, null);
  // While drawing, let the running request finish (the picture keeps updating);
  // only the newest drawing waits behind it.
  analyse({ kind: 'dataurl', url: pad.toDataURL() }, { abortCurrent: false });
}

pad.addEventListener('change', () => {
  if (!drawTimer) drawTimer = setTimeout(analyseDrawing, DRAW_DEBOUNCE_MS);
  updateBusy();
});
pad.addEventListener('strokeend', () => {
  if (drawTimer) clearTimeout(drawTimer);
  drawTimer = setTimeout(analyseDrawing, 30);
  updateBusy();
});

$('clear').addEventListener('click', () => {
  if (drawTimer) clearTimeout(drawTimer);
  drawTimer = 0;
  analysisQueue.cancel();
  updateBusy();
  pad.clear();
  markActive(state.galleryButtons, null);
  setStatus('Canvas cleared: draw a digit (the panels still show the last input).', 'info');
});

// ---------------------------------------------------------------- files: picker, drop, paste

async function analyseFile(file) {
  if (!file) return;
  markActive(state.galleryButtons, null);
  analyse({ kind: 'file', file });
  try {
    const bitmap = await createImageBitmap(file);
    pad.showImage(bitmap);
    bitmap.close();
  } catch (err) {
    pad.clear(); // not something the browser can show; the server will say why
  }
}

const upload = $('upload');
upload.addEventListener('change', () => {
  const file = upload.files && upload.files[0];
  analyseFile(file);
  upload.value = '';
});

const overlay = $('drop-overlay');
let dragDepth = 0;
const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
window.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth += 1;
  overlay.hidden = false;
});
window.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
});
window.addEventListener('dragleave', (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) overlay.hidden = true;
});
window.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  overlay.hidden = true;
  analyseFile(e.dataTransfer.files[0]);
});

window.addEventListener('paste', (e) => {
  const items = Array.from((e.clipboardData && e.clipboardData.items) || []);
  const item = items.find((it) => it.kind === 'file' && it.type.startsWith('image/'));
  if (!item) return;
  e.preventDefault();
  analyseFile(item.getAsFile());
});

// ---------------------------------------------------------------- routing iterations

$('routing-iterations').addEventListener('change', () => {
  state.iterations = Number($('routing-iterations').value);
  if (state.source) analyse(state.source);
});

// ---------------------------------------------------------------- gallery and start-up

async function pickGalleryDigit(entry, button) {
  markActive(state.galleryButtons, button);
  try {
    const { img, pixels } = await loadDigit(entry);
    pad.showImage(img);
    analyse({ kind: 'pixels', pixels });
  } catch (err) {
    showError(err);
  }
}

async function loadModelInfo() {
  const el = $('model-info');
  try {
    const info = await api.getJSON('/api/model');
    const parts = [];
    if (Number.isFinite(info.parameters)) parts.push(`${(info.parameters / 1e6).toFixed(1)} M parameters`);
    const ckpt = info.checkpoint || {};
    if (Number.isFinite(ckpt.test_accuracy)) {
      parts.push(`${(100 * ckpt.test_accuracy).toFixed(2)}% test accuracy`
        + (Number.isFinite(ckpt.epochs) ? ` after ${ckpt.epochs} epoch${ckpt.epochs === 1 ? '' : 's'}` : ''));
    }
    if (Number.isFinite(info.routing_iterations)) parts.push(`${info.routing_iterations} routing iterations by default`);
    el.textContent = parts.join(' \u00b7 ');
    if (Number.isFinite(info.routing_iterations) && !state.analysis) {
      state.iterations = info.routing_iterations;
      $('routing-iterations').value = String(info.routing_iterations);
    }
  } catch (err) {
    el.textContent = `Model information unavailable: ${err.message}`;
  }
}

async function start() {
  drawSquashPlot();
  loadModelInfo();
  loadKernels();
  try {
    const entries = await loadGalleryIndex();
    state.galleryButtons = renderGallery($('gallery'), entries, pickGalleryDigit);
    if (entries.length && !state.source) {
      await pickGalleryDigit(entries[0], state.galleryButtons[0]);
    }
  } catch (err) {
    showError(err);
  }
}

start();
