// Squashing: the curve |s|^2 / (1 + |s|^2) with every primary capsule placed on it, from the
// lengths the server measured before and after squashing (never inverted from rounded values).
import { flatten } from '../../lib/heatmap.js';
import {
  COLORS, prepare, axes, series, redrawOnResize,
} from '../../lib/chart.js';

const ASPECT = 240 / 560;

/** Whole decades around the data (raw lengths span tiny to tens): a logarithmic x axis. */
function decades(values) {
  let lo = 0.1;
  let hi = 100;
  for (const v of values || []) {
    if (v > 0 && v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) ticks.push(10 ** e);
  return ticks;
}

export const squash = (n) => (n * n) / (1 + n * n);

export class SquashPlot {
  /** caption: states the selected capsule's two lengths in words. */
  constructor(canvas, caption) {
    this.canvas = canvas;
    this.caption = caption;
    this.before = null; // Float32Array of |s|, capsule order as in primary_caps.lengths
    this.after = null;
    this.selected = null; // index into both
    redrawOnResize(() => this.draw());
  }

  /** part: the analysis' primary_caps {lengths, pre_squash_lengths}. */
  setData(part) {
    this.before = flatten(part.pre_squash_lengths);
    this.after = flatten(part.lengths);
    this.draw();
  }

  select(index) {
    this.selected = index;
    this.draw();
    if (!this.before) return;
    const saturated = this.after.filter((v) => v > 0.9).length;
    this.caption.textContent = `Selected capsule: length ${this.before[index].toFixed(3)} before squashing, `
      + `${this.after[index].toFixed(3)} after. ${saturated.toLocaleString('en')} of the ${this.after.length.toLocaleString('en')} capsules are longer than 0.9 after squashing.`;
    this.canvas.setAttribute('aria-label', `The squash curve |s|\u00b2/(1+|s|\u00b2) with this input's `
      + `${this.after.length.toLocaleString('en')} primary capsules placed on it. ${this.caption.textContent}`);
  }

  draw() {
    const { ctx, W, H } = prepare(this.canvas, ASPECT);
    const ticks = decades(this.before);
    const [lo, hi] = [ticks[0], ticks[ticks.length - 1]];
    const frame = axes(ctx, { x: 0, y: 0, w: W, h: H }, {
      x: { min: lo, max: hi, log: true, ticks, label: 'length before squashing \u2016s\u2016 (logarithmic)' },
      y: { min: 0, max: 1, label: 'length after', ticks: [0, 0.5, 1] },
      legend: [{ label: 'squash', color: COLORS.capsnet }, { label: 'a primary capsule', color: 'rgba(120, 160, 255, 0.8)' }],
    });
    const xs = Array.from({ length: 201 }, (_, i) => lo * (hi / lo) ** (i / 200));
    series(ctx, frame, xs, xs.map(squash), { color: COLORS.capsnet, width: 2 });
    if (!this.before) return;
    ctx.fillStyle = 'rgba(120, 160, 255, 0.35)';
    for (let i = 0; i < this.before.length; i += 1) {
      ctx.beginPath();
      ctx.arc(frame.X(this.before[i]), frame.Y(this.after[i]), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (this.selected === null) return;
    const n = this.before[this.selected];
    const v = this.after[this.selected];
    const px = frame.X(n);
    const py = frame.Y(v);
    ctx.fillStyle = COLORS.marker;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(px, py, 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = COLORS.strong;
    const right = px > (frame.left + frame.right) / 2;
    const below = py - 22 < frame.top;
    ctx.textAlign = right ? 'right' : 'left';
    ctx.textBaseline = below ? 'top' : 'bottom';
    ctx.fillText(`\u2016s\u2016 = ${n.toFixed(2)} \u2192 length ${v.toFixed(3)}`, px + (right ? -10 : 10), below ? py + 10 : py - 8);
  }
}
