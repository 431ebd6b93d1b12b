// Reconstruction: the decoder redraws the digit from one digit capsule's numbers.
// One slider per dimension nudges them; the picture follows while dragging: one decode at a
// time, the newest slider position waiting (lib/queue.js), so requests never pile up.
import * as api from '../../engine.js';
import { renderGray, fmt } from '../../lib/heatmap.js';
import { drawSweepGrid } from './sweep-grid.js';
import { LatestQueue } from '../../lib/queue.js';

export class ReconstructionView {
  /**
   * els: {canvas, sliders, digit, reset, sweepButton, sweep, sweepNote, vectorNote}
   * dims: the digit capsules' dimension; halfRange: how far each slider reaches either side
   * of the capsule's value (both from /api/model). onError(err) shows a message to the user.
   * onDigit(digit) follows the capsule being decoded; onChange(digit, values or null when
   * unmoved) follows every settled change (the URL keeps them).
   */
  constructor(els, {
    dims, halfRange, onError, onDigit = () => {}, onChange = () => {},
  }) {
    this.els = els;
    this.onDigit = onDigit;
    this.onChange = onChange;
    this.dims = dims;
    this.halfRange = halfRange;
    this.onError = onError;
    this.vectors = null; // digits x dims, from digit_caps.vectors
    this.prediction = null;
    this.digit = 0;
    this.base = new Array(dims).fill(0);
    this.inputs = [];
    this.outputs = [];
    this.labels = [];
    this.baseReconstruction = null; // the decoder's image of the unmodified capsule
    this.sweepShown = false;
    this.reconQueue = new LatestQueue(onError);
    this.sweepQueue = new LatestQueue(onError);
    this.buildSliders();

    els.digit.addEventListener('change', () => {
      this.selectDigit(Number(els.digit.value));
    });
    els.reset.addEventListener('click', () => {
      this.showBase();
      this.changed();
    });
    els.sweepButton.addEventListener('click', () => {
      this.sweepShown = true;
      this.refreshSweep();
    });
  }

  buildSliders() {
    const rows = [];
    for (let d = 0; d < this.dims; d += 1) {
      const row = document.createElement('div');
      row.className = 'slider-row';
      const label = document.createElement('label');
      label.htmlFor = `slider-${d}`;
      label.textContent = `dim ${d}`;
      label.dataset.testid = `dimension-label-${d}`;
      const input = document.createElement('input');
      input.type = 'range';
      input.id = `slider-${d}`;
      input.dataset.testid = `slider-${d}`;
      input.step = '0.01';
      input.min = String(-this.halfRange);
      input.max = String(this.halfRange);
      input.value = '0';
      input.disabled = true;
      const output = document.createElement('output');
      output.setAttribute('aria-live', 'off'); // an <output> is a live region: not while dragging
      output.htmlFor = input.id;
      output.textContent = '';
      input.addEventListener('input', () => {
        this.updateOutput(d);
        this.requestReconstruction();
      });
      input.addEventListener('change', () => {
        this.refreshSweep();
        this.changed();
      });
      row.append(label, input, output);
      rows.push(row);
      this.labels.push(label);
      this.inputs.push(input);
      this.outputs.push(output);
    }
    this.els.sliders.replaceChildren(...rows);
  }

  updateOutput(d) {
    const value = Number(this.inputs[d].value);
    const delta = value - this.base[d];
    const sign = delta > 0.0049 ? '+' : (delta < -0.0049 ? '\u2212' : '\u00b1');
    this.outputs[d].textContent = `${fmt(value, 2)} (${sign}${Math.abs(delta).toFixed(2)})`;
    this.inputs[d].setAttribute('aria-valuetext', `${value.toFixed(2)}, change ${delta >= 0 ? 'plus' : 'minus'} ${Math.abs(delta).toFixed(2)}`);
  }

  setSliders(values) {
    values.forEach((v, d) => {
      const input = this.inputs[d];
      input.disabled = false;
      // Widen first so the browser never clamps the new value to the old range.
      input.min = String(Math.min(Number(input.min), v - this.halfRange));
      input.max = String(Math.max(Number(input.max), v + this.halfRange));
      input.value = String(v);
      input.min = String(v - this.halfRange);
      input.max = String(v + this.halfRange);
      input.value = String(v);
      this.updateOutput(d);
    });
  }

  vector() {
    return this.inputs.map((input) => Number(input.value));
  }

  /** analysis: the /api/analyze answer; digit: the capsule to decode (null: the prediction). */
  setData(analysis, digit = null) {
    this.vectors = analysis.digit_caps.vectors;
    this.prediction = analysis.prediction;
    const d = digit ?? analysis.prediction;
    this.selectDigit(d, d === analysis.prediction ? analysis.reconstruction : null);
  }

  /** Values the sliders settled on before (a link's): decode them. */
  applyValues(values) {
    if (!this.vectors || values.length !== this.dims) return;
    this.setSliders(values);
    this.requestReconstruction(true);
    this.refreshSweep();
    this.changed();
  }

  /** The sliders' values when they differ from the capsule's, else null. */
  moved() {
    const values = this.vector();
    return values.some((v, d) => Math.abs(v - this.base[d]) > 0.0005) ? values : null;
  }

  changed() {
    this.onChange(this.digit, this.moved());
  }

  selectDigit(digit, reconstruction = null) {
    if (!this.vectors) return;
    this.digit = digit;
    this.els.digit.value = String(digit);
    this.onDigit(digit);
    this.base = this.vectors[digit].map(Number);
    let norm = 0;
    for (const v of this.base) norm += v * v;
    this.els.vectorNote.textContent = digit === this.prediction
      ? `Decoding digit capsule ${digit}, the network's prediction (length ${Math.sqrt(norm).toFixed(3)}).`
      : `Decoding digit capsule ${digit} instead of the prediction ${this.prediction} (length ${Math.sqrt(norm).toFixed(3)}): what would your input look like as a ${digit}?`;
    this.els.canvas.setAttribute('aria-label', `Reconstruction decoded from digit capsule ${digit}`);
    this.baseReconstruction = reconstruction;
    this.showBase();
  }

  /** The unmodified capsule: its known reconstruction, or ask the decoder once. */
  showBase() {
    this.setSliders(this.base);
    if (this.baseReconstruction) {
      this.cancel();
      renderGray(this.els.canvas, this.baseReconstruction);
    } else {
      this.requestReconstruction(true);
    }
    this.refreshSweep();
  }

  /** abortCurrent: the running request is stale (another capsule, or the unmodified one). */
  requestReconstruction(abortCurrent = false) {
    const digit = this.digit;
    const vector = this.vector();
    const isBase = abortCurrent && vector.every((v, d) => Math.abs(v - this.base[d]) < 1e-9);
    this.reconQueue.submit(async (signal) => {
      const result = await api.reconstruct(digit, vector, signal);
      if (signal.aborted) return;
      if (isBase && digit === this.digit) this.baseReconstruction = result.reconstruction;
      renderGray(this.els.canvas, result.reconstruction);
      this.els.canvas.dataset.drawn = String(Number(this.els.canvas.dataset.drawn || 0) + 1); // for the benchmarks
    }, { abortCurrent });
  }

  refreshSweep() {
    if (!this.sweepShown || !this.vectors) return;
    const digit = this.digit;
    const vector = this.vector();
    this.els.sweepButton.disabled = true;
    this.els.sweepNote.textContent = 'Loading the perturbation grid\u2026';
    this.sweepQueue.submit(async (signal) => {
      try {
        const result = await api.sweep(digit, vector, signal);
        if (signal.aborted) return;
        this.renderSweep(result, digit);
      } finally {
        if (!signal.aborted) this.els.sweepButton.disabled = false;
      }
    }, { abortCurrent: true });
  }

  renderSweep(result, digit) {
    drawSweepGrid(this.els.sweep, result, digit);
    this.els.sweepNote.textContent = `Digit capsule ${digit}: row d adds the column's amount to dimension d only; the middle column (0) is the current vector.`;
  }

  /** A new analysis is on its way: drop slider requests for the old capsule. */
  cancel() {
    this.reconQueue.cancel();
  }
}
