// Digit capsules: their lengths (the class confidences) and their vectors as a heat map.
import { fromNested, range, renderAtlas, reserveAtlas } from './heatmap.js';
import { renderBars } from './bars.js';

export class DigitCapsView {
  /** els: {bars, vectors, rows}; rows labels the heat map's rows with the digits. */
  constructor(els) {
    this.els = els;
  }

  /** Size the matrix and label its rows from the model's geometry before any data arrive. */
  reserve(geo) {
    reserveAtlas(this.els.vectors, { count: 1, h: geo.digits, w: geo.digitDim, cols: 1 });
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
    renderBars(this.els.bars, part.lengths, { winner: prediction });
    const vectors = fromNested(part.vectors);
    const [digits, dim] = vectors.shape;
    this.labelRows(digits);
    const { min, max } = range(vectors.data);
    const a = Math.max(Math.abs(min), Math.abs(max), 1e-6);
    renderAtlas(this.els.vectors, vectors.data, { count: 1, h: digits, w: dim, cols: 1, min: -a, max: a });
  }
}
