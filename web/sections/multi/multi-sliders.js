// "Two digits at once": one slider per dimension of either chosen digit capsule (a, the
// longest, or b), as in the reconstruction section (sliders.js); each move asks the MultiMNIST
// decoder to redraw that digit. Each capsule keeps its own slider values until the next input.
import { fmt } from '../../lib/heatmap.js';

const LIMIT = 10; // POST /api/multi/reconstruct takes values in -10..10

export class MultiSliders {
  /**
   * els: {which (a <select> of 'a' / 'b'), sliders, reset}; halfRange: how far each slider
   * reaches either side of the capsule's value (/api/model's slider_half_range).
   * onMove(pen, digit, vector): a slider moved; onReset(pen): back to the capsule's own values.
   */
  constructor(els, { halfRange, onMove, onReset }) {
    Object.assign(this, {
      els, halfRange, onMove, onReset,
    });
    this.capsules = null; // {a: {digit, base, values}, b: ...}
    this.inputs = [];
    this.outputs = [];
    els.which.addEventListener('change', () => this.show());
    els.reset.addEventListener('click', () => {
      const capsule = this.capsule();
      if (!capsule) return;
      capsule.values = capsule.base.slice();
      this.show();
      this.onReset(this.pen);
    });
  }

  get pen() {
    return this.els.which.value;
  }

  capsule() {
    return this.capsules && this.capsules[this.pen];
  }

  /** A new analysis: top2 [a, b] and the ten capsule vectors. */
  setCapsules(top2, vectors) {
    const capsule = (digit) => ({ digit, base: vectors[digit].map(Number), values: vectors[digit].map(Number) });
    this.capsules = { a: capsule(top2[0]), b: capsule(top2[1]) };
    for (const option of this.els.which.options) {
      option.textContent = `${option.value}: digit capsule ${this.capsules[option.value].digit}`;
    }
    if (this.inputs.length !== vectors[0].length) this.build(vectors[0].length);
    this.show();
  }

  build(dims) {
    this.inputs = [];
    this.outputs = [];
    this.els.sliders.replaceChildren(...Array.from({ length: dims }, (_, d) => {
      const row = document.createElement('div');
      row.className = 'slider-row';
      const label = document.createElement('label');
      label.htmlFor = `multi-slider-${d}`;
      label.textContent = `dim ${d}`;
      const input = document.createElement('input');
      input.type = 'range';
      input.id = `multi-slider-${d}`;
      input.dataset.testid = `multi-slider-${d}`;
      input.step = '0.01';
      const output = document.createElement('output');
      output.setAttribute('aria-live', 'off');
      output.htmlFor = input.id;
      input.addEventListener('input', () => {
        const capsule = this.capsule();
        capsule.values[d] = Number(input.value);
        this.describe(d);
        this.onMove(this.pen, capsule.digit, capsule.values.slice());
      });
      row.append(label, input, output);
      this.inputs.push(input);
      this.outputs.push(output);
      return row;
    }));
  }

  /** The chosen capsule's values on the sliders, each reaching halfRange either side. */
  show() {
    const capsule = this.capsule();
    if (!capsule) return;
    this.inputs.forEach((input, d) => {
      const base = capsule.base[d];
      // Widen first, so that the browser never clamps the value to the old range.
      input.min = String(-LIMIT);
      input.max = String(LIMIT);
      input.value = String(capsule.values[d]);
      input.min = String(Math.max(-LIMIT, base - this.halfRange));
      input.max = String(Math.min(LIMIT, base + this.halfRange));
      input.value = String(capsule.values[d]);
      this.describe(d);
    });
  }

  describe(d) {
    const capsule = this.capsule();
    const value = capsule.values[d];
    const delta = value - capsule.base[d];
    const sign = delta > 0.0049 ? '+' : (delta < -0.0049 ? '\u2212' : '\u00b1');
    this.outputs[d].textContent = `${fmt(value, 2)} (${sign}${Math.abs(delta).toFixed(2)})`;
    this.inputs[d].setAttribute('aria-valuetext', `${value.toFixed(2)}, change ${delta >= 0 ? 'plus' : 'minus'} ${Math.abs(delta).toFixed(2)}`);
  }
}
