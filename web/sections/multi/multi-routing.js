// "Does routing pull the two digits apart?": for the chosen routing iteration, how far the votes of
// the primary capsules at each grid position moved from the even split (1/10 to every digit)
// towards digit a or b, drawn over the input at the centres of the capsules' receptive fields.
// The numbers are the server's (POST /api/multi/analyze, routing_shares), in full precision.
import { fmt } from '../../lib/heatmap.js';
import { PEN_RGB } from './multi-pad.js';
import { GREY } from './multi-draw.js';

const SCALE = 2; // canvas units per input pixel: a field's centre may fall between two pixels
const AWAY_RGB = [200, 200, 200]; // votes that moved away from the digit
const points = (share) => 100 * share; // shares as percentages of the votes

export class RoutingSharesView {
  /**
   * els: {runs, iteration (<select>s), a, b (canvases), summary}; range, iterations: the server's
   * routing iterations (min, max) and default; onRuns(): the reader asked for another count.
   */
  constructor(els, { range: [low, high], iterations, onRuns }) {
    this.els = els;
    this.result = null;
    this.chosen = null; // the iteration the reader picked, kept for the next inputs
    els.runs.replaceChildren(...Array.from({ length: high - low + 1 }, (_, i) => new Option(String(low + i))));
    els.runs.value = String(iterations);
    els.runs.addEventListener('change', () => {
      this.chosen = Number(els.runs.value); // show the last of the iterations asked for
      onRuns();
    });
    els.iteration.addEventListener('change', () => {
      this.chosen = Number(els.iteration.value);
      this.draw();
    });
  }

  /** How many routing iterations the analysis should run. */
  get runs() {
    return Number(this.els.runs.value);
  }

  setResult(result, input) {
    this.result = result;
    this.input = input;
    const count = result.routing_shares.iterations.length;
    const { iteration } = this.els;
    if (iteration.options.length !== count) {
      iteration.replaceChildren(...Array.from({ length: count }, (_, i) => new Option(`${i + 1}`, String(i + 1))));
    }
    iteration.value = String(this.chosen && this.chosen <= count ? this.chosen : count);
    this.draw();
  }

  draw() {
    const { result } = this;
    if (!result) return;
    const k = Number(this.els.iteration.value);
    const shares = result.routing_shares.iterations[k - 1];
    const even = 1 / shares.overall.length;
    const moved = { a: shares.a.flat().map((s) => s - even), b: shares.b.flat().map((s) => s - even) };
    const reach = Math.max(...moved.a.map(Math.abs), ...moved.b.map(Math.abs));
    for (const pen of ['a', 'b']) this.paint(pen, moved[pen], reach, result.routing_shares.receptive_field);
    this.els.summary.textContent = this.describe(k, shares, even, moved, reach);
  }

  /** The input in dim grey; each grid position a stride-wide square at its field's centre. */
  paint(pen, moved, reach, field) {
    const canvas = this.els[pen];
    const { shape: [side], data } = this.input;
    canvas.width = side * SCALE;
    canvas.height = side * SCALE;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(canvas.width, canvas.height);
    for (let y = 0; y < canvas.height; y += 1) {
      for (let x = 0; x < canvas.width; x += 1) {
        const grey = Math.round(255 * GREY * data[Math.floor(y / SCALE) * side + Math.floor(x / SCALE)]);
        const at = 4 * (y * canvas.width + x);
        image.data.set([grey, grey, grey, 255], at);
      }
    }
    ctx.putImageData(image, 0, 0);
    if (reach <= 0) return; // nothing moved: the even split, nothing to colour
    const [rows, cols] = field.grid;
    const cell = field.stride * SCALE;
    const offset = ((field.size - field.stride) / 2) * SCALE; // the square's corner, centred on the field
    moved.forEach((m, i) => {
      const rgb = m >= 0 ? PEN_RGB[pen] : AWAY_RGB;
      ctx.fillStyle = `rgba(${rgb.join(', ')}, ${Math.abs(m) / reach})`;
      ctx.fillRect(offset + (i % cols) * cell, offset + Math.floor(i / cols) * cell, cell, cell);
    });
    canvas.setAttribute('aria-label', `Routing iteration ${this.els.iteration.value}: where the votes moved `
      + `towards digit ${this.result.top2[pen === 'a' ? 0 : 1]} (${pen}), on a ${rows} by ${cols} grid over the input`);
  }

  describe(k, shares, even, moved, reach) {
    const [a, b] = this.result.top2;
    const evenText = `${fmt(points(even), 0)}%`;
    if (reach <= 0) return `Iteration ${k}: every primary capsule splits its vote evenly, ${evenText} to each digit capsule.`;
    // the move of size `reach` (a's first on a tie)
    const pen = moved.a.some((m) => Math.abs(m) === reach) ? 'a' : 'b';
    const big = moved[pen].find((m) => Math.abs(m) === reach);
    const sign = (v) => (v >= 0 ? '+' : '');
    return `Iteration ${k}: weighted by their length, the primary capsules give `
      + `${fmt(points(shares.overall[a]), 2)}% of their votes to ${a} (a) and ${fmt(points(shares.overall[b]), 2)}% `
      + `to ${b} (b), against ${evenText} each before routing. The largest move at one position: `
      + `${sign(big)}${fmt(points(big), 2)} points for ${pen} (full colour in the maps).`;
  }
}
