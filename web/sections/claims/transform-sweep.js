// Sweep one transform parameter over its range (the others held at their slider values) and
// chart what both networks answer: POST /api/transform-sweep.
import * as api from '../../engine.js';
import { renderGray, fmt } from '../../lib/heatmap.js';
import { argmax } from '../../lib/bars.js';
import {
  COLORS, DIGIT_COLORS, ramp, prepare, axes, series, markX, niceTicks, redrawOnResize,
} from '../../lib/chart.js';
import { labelOf, formatValue, orderedNames } from './transforms.js';
import { BusyQueue } from '../../lib/queue.js';

const POINTS = 24; // about this many values per sweep (the API takes up to 41)
const STRIP = 64; // height of the row of transformed inputs above the charts

/** Pearson correlation of ys with xs (0 when either is constant). */
function pearson(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export class TransformSweepView {
  /**
   * els: {root, parameter, digit, run, chart, summary}; transforms: /api/model's table;
   * current(): the transform sliders' values, the ones held fixed.
   */
  constructor(els, { transforms, digits, current, onError }) {
    this.els = els;
    this.transforms = transforms;
    this.current = current;
    this.pixels = null;
    this.result = null; // {answer, held, auto}
    this.queue = new BusyQueue(els.root, onError);
    for (const name of orderedNames(transforms)) els.parameter.append(new Option(labelOf(name), name));
    for (let d = 0; d < digits; d += 1) els.digit.append(new Option(String(d), String(d)));
    els.run.addEventListener('click', () => this.run());
    redrawOnResize(() => this.draw());
  }

  /** A new input: a sweep takes a while, so the chart waits for a click, saying it is old. */
  setPixels(pixels) {
    this.pixels = pixels;
    if (!this.result) return;
    this.els.summary.dataset.stale = 'true';
    this.els.summary.textContent = `This chart is for the previous input: press Sweep for the current one. ${this.result.text}`;
  }

  run() {
    if (!this.pixels) return;
    const parameter = this.els.parameter.value;
    const spec = this.transforms[parameter];
    const auto = this.els.digit.value === 'auto';
    const held = this.current();
    delete held[parameter];
    const request = {
      parameter, values: niceTicks(spec.min, spec.max, POINTS), digit: auto ? null : Number(this.els.digit.value), transform: held,
    };
    const { pixels } = this;
    this.els.run.disabled = true;
    this.els.summary.textContent = `Sweeping ${labelOf(parameter).toLowerCase()}\u2026`;
    this.queue.submit(async (signal) => {
      try {
        const answer = await api.transformSweep(pixels, request, signal);
        if (signal.aborted) return;
        this.result = { answer, held, auto };
        delete this.els.summary.dataset.stale;
        this.draw();
        this.summarise();
      } finally {
        this.els.run.disabled = false;
      }
    }, { abortCurrent: true });
  }

  /** Redraw (also when the sliders move: the dashed line marks their value). */
  draw() {
    if (!this.result) return;
    const { answer } = this.result;
    const { parameter, values, digit, steps } = answer;
    const spec = this.transforms[parameter];
    const canvas = this.els.chart;
    canvas.hidden = false;
    const W = canvas.clientWidth || 560;
    const panel = Math.max(220, Math.round(W * 0.36));
    const { ctx } = prepare(canvas, (STRIP + 3 * panel) / W);
    const x = {
      min: values[0], max: values[values.length - 1], label: `${labelOf(parameter)} (${spec.unit})`,
      ticks: niceTicks(values[0], values[values.length - 1], 6),
    };
    const box = (i) => ({ x: 0, y: STRIP + i * panel, w: W, h: panel });
    const lengths = steps.map((s) => s.capsnet_lengths);
    const dims = steps[0].capsule.length;
    const capsule = Array.from({ length: dims }, (_, k) => steps.map((s) => s.capsule[k]));
    const r = capsule.map((ys) => pearson(values, ys));
    const best = argmax(r.map(Math.abs));

    // 1. The ten digit-capsule lengths.
    const f1 = axes(ctx, box(0), {
      x, y: { min: 0, max: 1, label: 'length' }, title: 'CapsNet: digit-capsule lengths',
      legend: lengths[0].map((_, d) => ({ label: String(d), color: DIGIT_COLORS[d], width: d === digit ? 3 : 2 })),
    });
    lengths[0].forEach((_, d) => series(ctx, f1, values, lengths.map((l) => l[d]),
      { color: DIGIT_COLORS[d], width: d === digit ? 3 : 1.25 }));

    // 2. The followed capsule's dimensions; the one that follows the parameter best stands out.
    const all = capsule.flat();
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const pad = (hi - lo) * 0.05 || 0.05;
    const colors = ramp(dims);
    const f2 = axes(ctx, box(1), {
      x, y: { min: lo - pad, max: hi + pad, label: 'value' }, title: `CapsNet: capsule ${digit}'s ${dims} dimensions`,
      legend: [{ label: 'dim 0', color: colors[0] }, { label: `dim ${dims - 1}`, color: colors[dims - 1] },
        { label: `dim ${best}: r = ${fmt(r[best])} with the ${labelOf(parameter).toLowerCase()}`, color: COLORS.strong, width: 3 }],
    });
    capsule.forEach((ys, k) => k !== best && series(ctx, f2, values, ys, { color: colors[k], width: 1 }));
    series(ctx, f2, values, capsule[best], { color: COLORS.strong, width: 3 });

    // 3. Both networks' confidence in the followed digit.
    const f3 = axes(ctx, box(2), {
      x, y: { min: 0, max: 1, label: 'confidence' }, title: `Both networks' confidence in ${digit}`,
      legend: [{ label: `CapsNet: length of capsule ${digit}`, color: COLORS.capsnet },
        { label: `CNN: probability of ${digit}`, color: COLORS.cnn, dash: [6, 4] }],
    });
    series(ctx, f3, values, steps.map((s) => s.capsnet_lengths[digit]), { color: COLORS.capsnet, width: 2, dots: true });
    series(ctx, f3, values, steps.map((s) => s.cnn_probabilities[digit]), { color: COLORS.cnn, width: 2, dash: [6, 4], dots: true });

    const now = this.current()[parameter];
    for (const f of [f1, f2, f3]) markX(ctx, f, now, `slider ${formatValue(now, spec)}`);
    this.drawStrip(ctx, f1, values, steps);
    Object.assign(canvas.dataset, { parameter, digit: String(digit), bestDimension: String(best) });
    this.result.best = { dimension: best, r: r[best] };
  }

  /** The transformed inputs along the top, at their x positions, as many as fit. */
  drawStrip(ctx, frame, values, steps) {
    const size = STRIP - 16;
    const every = Math.max(1, Math.ceil(values.length / Math.floor((frame.right - frame.left) / (size + 6))));
    const thumb = document.createElement('canvas');
    ctx.imageSmoothingEnabled = false;
    for (let i = 0; i < steps.length; i += every) {
      renderGray(thumb, steps[i].input);
      const x = Math.min(Math.max(frame.X(values[i]) - size / 2, 0), frame.right + 10 - size);
      ctx.drawImage(thumb, x, 4, size, size);
    }
    ctx.fillStyle = COLORS.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText('what both networks saw', 4, STRIP - 1);
  }

  summarise() {
    const { answer, held, auto } = this.result;
    const { dimension: best, r: rBest } = this.result.best;
    const { parameter, values, digit, steps } = answer;
    const spec = this.transforms[parameter];
    const name = labelOf(parameter).toLowerCase();
    const n = values.length;
    const capsnet = steps.filter((s) => argmax(s.capsnet_lengths) === digit).length;
    const cnn = steps.filter((s) => argmax(s.cnn_probabilities) === digit).length;
    const fixed = Object.entries(held).filter(([p, v]) => v !== this.transforms[p].default)
      .map(([p, v]) => `${labelOf(p).toLowerCase()} ${formatValue(v, this.transforms[p])}`);
    const follows = Math.abs(rBest) >= 0.5
      ? `dimension ${best} follows the ${name} most closely (linear correlation r = ${fmt(rBest)})`
      : `no dimension follows the ${name} closely (the strongest linear correlation is r = ${fmt(rBest)}, dimension ${best})`;
    const text = `${labelOf(parameter)} from ${formatValue(values[0], spec)} to ${formatValue(values[n - 1], spec)} in ${n} steps`
      + `${fixed.length ? `, with ${fixed.join(', ')} held` : ''}; following digit ${digit}`
      + `${auto ? ' (the CapsNet\'s prediction for the untransformed input)' : ''}. `
      + `The CapsNet predicts ${digit} at ${capsnet} of the ${n} values, the CNN at ${cnn}. `
      + `Of digit capsule ${digit}'s dimensions, ${follows}.`;
    this.result.text = text;
    this.els.summary.textContent = text;
    this.els.chart.setAttribute('aria-label', `Sweep chart. ${text}`);
  }
}
