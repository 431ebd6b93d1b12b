// Line charts on a canvas: sharp at any pixel ratio, with labelled axes, units and a legend.
// Shared by the squash plot, the transform sweep and the robustness chart.
import { cssColor } from './heatmap.js';

export const COLORS = {
  background: '#171a21',
  grid: '#3a3f4b',
  text: '#9aa3b2',
  strong: '#e6e9ef',
  capsnet: '#35b779',
  cnn: '#f28e2b',
  marker: '#fde725',
};

/** Ten distinguishable colours for the ten digits (Tableau 10, lightened for a dark page). */
export const DIGIT_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#c39b77', '#bab0ac'];

/** n colours along viridis, for series that are ordered (e.g. capsule dimensions). */
export const ramp = (n) => Array.from({ length: n }, (_, i) => cssColor('viridis', n > 1 ? 0.15 + (0.85 * i) / (n - 1) : 0.5));

/** Call draw() again, at most once a frame, when the window is resized: the canvases follow
 * their CSS width. */
export function redrawOnResize(draw) {
  let frame = 0;
  window.addEventListener('resize', () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  });
}

/** Size the canvas to its CSS width (height = width x aspect) at the device pixel ratio. */
export function prepare(canvas, aspect, fallbackWidth = 560) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || fallbackWidth;
  const H = Math.round(W * aspect);
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, W, H);
  ctx.font = '12px system-ui, sans-serif';
  return { ctx, W, H };
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min, max, count = 5) {
  const span = max - min || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k += 1) {
    ticks.push(Number((k * step).toPrecision(12))); // 0.3, not 0.30000000000000004
  }
  return ticks;
}

const tickText = (v) => {
  const s = String(Math.round(v * 1e6) / 1e6);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
};

const LEGEND_ROW = 16;

/** Value -> fraction of the axis, linear or (log: true) logarithmic; clamped to the axis. */
function scale({ min, max, log = false }) {
  const t = log ? Math.log10 : (v) => v;
  return (v) => (t(Math.min(Math.max(v, min), max)) - t(min)) / (t(max) - t(min) || 1);
}

/** Where each legend item goes, wrapped into rows of `width` pixels: [{item, dx, row}]. */
function legendLayout(ctx, items, width) {
  let dx = 0;
  let row = 0;
  return items.map((item) => {
    const w = 24 + ctx.measureText(item.label).width + 12;
    if (dx > 0 && dx + w > width) {
      dx = 0;
      row += 1;
    }
    const placed = { item, dx, row };
    dx += w;
    return placed;
  });
}

/**
 * Axes in box {x, y, w, h} (the whole panel, labels included); x and y: {min, max, label,
 * ticks?, format?, log?}; a title, and under it a legend ([{label, color, dash?, width?}],
 * wrapped into as many rows as it needs). Returns the plotting frame {X, Y, left, right, top, bottom}.
 */
export function axes(ctx, box, { x, y, title = '', legend = [] }) {
  const m = { l: 58, r: 14, b: 38 };
  const left = box.x + m.l;
  const right = box.x + box.w - m.r;
  const placed = legendLayout(ctx, legend, right - left);
  const rows = placed.length ? placed[placed.length - 1].row + 1 : 0;
  const top = box.y + 24 + LEGEND_ROW * rows;
  const bottom = box.y + box.h - m.b;
  const sx = scale(x);
  const sy = scale(y);
  const X = (v) => left + sx(v) * (right - left);
  const Y = (v) => bottom - sy(v) * (bottom - top);
  ctx.save();
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  ctx.fillStyle = COLORS.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of x.ticks || niceTicks(x.min, x.max)) {
    line(ctx, [[X(v), top], [X(v), bottom]]);
    ctx.fillText((x.format || tickText)(v), X(v), bottom + 4);
  }
  ctx.fillText(x.label, (left + right) / 2, bottom + 20);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of y.ticks || niceTicks(y.min, y.max, 4)) {
    line(ctx, [[left, Y(v)], [right, Y(v)]]);
    ctx.fillText((y.format || tickText)(v), left - 6, Y(v));
  }
  ctx.translate(box.x + 11, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText(y.label, 0, 0);
  ctx.restore();
  if (title) {
    ctx.save();
    ctx.fillStyle = COLORS.strong;
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(title, left, box.y + 3, right - left);
    ctx.restore();
  }
  drawLegend(ctx, placed, left, box.y + 20);
  return { X, Y, left, right, top, bottom };
}

function line(ctx, points) {
  ctx.beginPath();
  points.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
  ctx.stroke();
}

/** One series: ys against xs, as a line (with dots when `dots`). */
export function series(ctx, frame, xs, ys, { color, width = 1.5, dash = [], dots = false }) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  line(ctx, xs.map((v, i) => [frame.X(v), frame.Y(ys[i])]));
  if (dots) {
    for (let i = 0; i < xs.length; i += 1) {
      ctx.beginPath();
      ctx.arc(frame.X(xs[i]), frame.Y(ys[i]), width + 1, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.restore();
}

/** A dashed vertical line at x = v, labelled (e.g. the current slider value); the label is
 * outlined in the background colour so that it reads over the data without hiding it. */
export function markX(ctx, frame, v, label) {
  const px = frame.X(v);
  ctx.save();
  ctx.strokeStyle = COLORS.marker;
  ctx.setLineDash([4, 3]);
  line(ctx, [[px, frame.top], [px, frame.bottom]]);
  ctx.setLineDash([]);
  ctx.textAlign = px > (frame.left + frame.right) / 2 ? 'right' : 'left';
  ctx.textBaseline = 'top';
  const tx = px + (ctx.textAlign === 'left' ? 4 : -4);
  ctx.strokeStyle = COLORS.background;
  ctx.lineWidth = 3;
  ctx.lineJoin = 'round';
  ctx.strokeText(label, tx, frame.top + 3);
  ctx.fillStyle = COLORS.marker;
  ctx.fillText(label, tx, frame.top + 3);
  ctx.restore();
}

function drawLegend(ctx, placed, left, top) {
  ctx.save();
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  for (const { item, dx, row } of placed) {
    const px = left + dx;
    const py = top + row * LEGEND_ROW + LEGEND_ROW / 2;
    ctx.strokeStyle = item.color;
    ctx.lineWidth = item.width || 2;
    ctx.setLineDash(item.dash || []);
    line(ctx, [[px, py], [px + 20, py]]);
    ctx.fillStyle = COLORS.strong;
    ctx.fillText(item.label, px + 24, py);
  }
  ctx.restore();
}
