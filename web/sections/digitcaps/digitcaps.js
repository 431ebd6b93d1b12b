// Digit capsules: their lengths (the class confidences) and their vectors as a heat map. A bar,
// a row of the matrix (click, or Up/Down on it) chooses the digit capsule every view follows.
import {
  fromNested, range, renderAtlas, reserveAtlas, hitTest,
} from '../../lib/heatmap.js';
import { renderBars, markChosen } from '../../lib/bars.js';

export class DigitCapsView {
  /** els: {bars, vectors, rows, rowMarker}; rows labels the matrix' rows with the digits.
   * onSelect(digit): the reader chose digit capsule `digit` here. */
  constructor(els, { onSelect = () => {} } = {}) {
    this.els = els;
    this.onSelect = onSelect;
    this.layout = null;
    this.chosen = null;
    els.vectors.addEventListener('click', (e) => {
      const hit = hitTest(els.vectors, this.layout, e);
      if (hit) onSelect(hit.y);
    });
    els.vectors.addEventListener('keydown', (e) => {
      const step = { ArrowUp: -1, ArrowDown: 1 }[e.key];
      if (!step || this.chosen === null || !this.layout) return;
      e.preventDefault();
      onSelect((this.chosen + step + this.layout.h) % this.layout.h);
    });
  }

  /** Size the matrix and label its rows from the model's geometry before any data arrive. */
  reserve(geo) {
    this.layout = reserveAtlas(this.els.vectors, { count: 1, h: geo.digits, w: geo.digitDim, cols: 1 });
    this.labelRows(geo.digits);
  }

  labelRows(digits) {
    if (this.els.rows.children.length === digits) return;
    this.els.rows.replaceChildren(...Array.from({ length: digits }, (_, d) => {
      const label = document.createElement('span');
      label.textContent = String(d);
      return label;
    }));
  }

  /** part: the analysis' digit_caps {lengths, vectors}; prediction: the longest capsule. */
  setData(part, prediction) {
    renderBars(this.els.bars, part.lengths, { winner: prediction, onSelect: this.onSelect, chosen: this.chosen });
    const vectors = fromNested(part.vectors);
    const [digits, dim] = vectors.shape;
    this.labelRows(digits);
    const { min, max } = range(vectors.data);
    const a = Math.max(Math.abs(min), Math.abs(max), 1e-6);
    this.layout = renderAtlas(this.els.vectors, vectors.data, { count: 1, h: digits, w: dim, cols: 1, min: -a, max: a });
    this.els.vectors.setAttribute('aria-label', `The ${digits} digit capsules' ${dim} numbers for this input, one row `
      + `per digit (blue negative, yellow positive); row ${prediction}, the prediction, is the longest vector`);
    this.choose(this.chosen);
  }

  /** Mark digit capsule d (the bar and the matrix row) as the one every view follows. */
  choose(d) {
    this.chosen = d;
    markChosen(this.els.bars, d);
    const { rowMarker } = this.els;
    if (d === null || !this.layout) {
      rowMarker.hidden = true;
      return;
    }
    Object.assign(rowMarker.style, {
      left: '0', width: '100%', top: `${(100 * d) / this.layout.h}%`, height: `${100 / this.layout.h}%`,
    });
    rowMarker.hidden = false;
  }
}
