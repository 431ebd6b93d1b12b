// Digit capsules: their lengths (the class confidences) and their vectors as a heat map.
import { fromNested, range, renderAtlas } from './heatmap.js';
import { renderBars } from './bars.js';

export class DigitCapsView {
  /** els: {bars, vectors, rows}; rows labels the heat map's rows with the digits. */
  constructor(els) {
    this.els = els;
  }

  /** part: the analysis' digit_caps {lengths, vectors}; prediction: the longest capsule. */
  setData(part, prediction) {
    renderBars(this.els.bars, part.lengths, { winner: prediction });
    const vectors = fromNested(part.vectors);
    const [digits, dim] = vectors.shape;
    if (this.els.rows.children.length !== digits) {
      this.els.rows.replaceChildren(...part.lengths.map((_, d) => {
        const label = document.createElement('span');
        label.textContent = String(d);
        return label;
      }));
    }
    const { min, max } = range(vectors.data);
    const a = Math.max(Math.abs(min), Math.abs(max), 1e-6);
    renderAtlas(this.els.vectors, vectors.data, { count: 1, h: digits, w: dim, cols: 1, min: -a, max: a });
  }
}
