// The pad of "Two digits at once": two pens, a and b, each drawing in its own layer (white
// ink on black, like MNIST), or holding a gallery digit that can be dragged or moved with the
// arrow keys by up to `maxShift` pixels. The pad shows each layer in its pen's colour; the
// network sees the pixel-wise maximum of the two layers, at the model's size.

import { penStroke } from '../../lib/draw-pad.js';
import { Layer } from './multi-layer.js';

export const PENS = ['a', 'b'];
export const PEN_RGB = { a: [255, 140, 30], b: [60, 150, 255] };
const css = ([r, g, b], alpha = 1) => `rgba(${r}, ${g}, ${b}, ${alpha})`;

export class MultiPad extends EventTarget {
  /** size: the model's input (36); maxShift: how far a placed digit may move (4). */
  constructor(canvas, { size, maxShift, scale = 10, brush = 2.2 }) {
    super();
    Object.assign(this, { canvas, size, maxShift, scale, brush: brush * scale });
    canvas.width = size * scale;
    canvas.height = size * scale;
    this.ctx = canvas.getContext('2d');
    this.layers = { a: new Layer(size, scale), b: new Layer(size, scale) };
    this.tint = document.createElement('canvas');
    this.tint.width = canvas.width;
    this.tint.height = canvas.height;
    this.pen = 'a';
    this.gesture = null; // {pointerId, last} while drawing, {pointerId, start, dx, dy} while dragging
    this.frame = 0;
    canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    canvas.addEventListener('pointermove', (e) => this.onMove(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      canvas.addEventListener(type, (e) => this.onUp(e));
    }
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    this.redraw();
  }

  get empty() {
    return this.layers.a.empty && this.layers.b.empty;
  }

  layer(pen = this.pen) {
    return this.layers[pen];
  }

  setPen(pen) {
    this.pen = pen;
    this.scheduleRedraw(); // the active pen's digit gets the bolder box
  }

  /** pen: 'a' | 'b' | null (both). */
  clear(pen = null) {
    for (const p of pen ? [pen] : PENS) this.layers[p].clear();
    this.changed('clear');
  }

  place(pen, digit) {
    this.layers[pen].place(digit);
    this.changed('place');
  }

  /** The pixel-wise maximum of the two layers, rows x cols of 0..1. */
  pixels() {
    const [a, b] = PENS.map((p) => this.layers[p].pixels());
    return a.map((row, y) => row.map((v, x) => Math.max(v, b[y][x])));
  }

  /** What to send to /api/multi/analyze: two placed digits as `compose`, else the pixels. */
  body() {
    const { a, b } = this.layers;
    if (this.empty) return null;
    if (a.digit && b.digit) {
      return { compose: [a, b].map((l) => ({ pixels: l.digit.pixels, dx: l.dx, dy: l.dy })) };
    }
    return { pixels: this.pixels() };
  }

  changed(reason) {
    this.scheduleRedraw();
    this.dispatchEvent(new CustomEvent('change', { detail: { reason } }));
  }

  scheduleRedraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.redraw(); });
  }

  /** Black, each layer in its pen's colour (channel-wise maximum), a dashed box around each
   * placed digit (the active pen's bolder), and a faint box the size of an unshifted digit. */
  redraw() {
    const { ctx, canvas, scale } = this;
    const t = this.tint.getContext('2d');
    ctx.globalCompositeOperation = 'source-over';
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (const pen of PENS) {
      const layer = this.layers[pen];
      if (layer.empty) continue;
      t.globalCompositeOperation = 'source-over';
      t.drawImage(layer.canvas, 0, 0);
      t.globalCompositeOperation = 'multiply';
      t.fillStyle = css(PEN_RGB[pen]);
      t.fillRect(0, 0, canvas.width, canvas.height);
      ctx.globalCompositeOperation = 'lighten';
      ctx.drawImage(this.tint, 0, 0);
    }
    ctx.globalCompositeOperation = 'source-over';
    const box = (x, y, n, colour, width) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.strokeRect(x * scale, y * scale, n * scale, n * scale);
    };
    ctx.setLineDash([6, 6]);
    const inner = 20; // MNIST's digits fill a 20x20 box of their 28x28
    box((this.size - inner) / 2, (this.size - inner) / 2, inner, 'rgba(255, 255, 255, 0.18)', 1);
    for (const pen of PENS) {
      const layer = this.layers[pen];
      if (!layer.digit) continue;
      const n = layer.digit.pixels.length;
      const m = layer.margin(n);
      box(m + layer.dx, m + layer.dy, n, css(PEN_RGB[pen], pen === this.pen ? 0.9 : 0.4), pen === this.pen ? 3 : 1.5);
    }
    ctx.setLineDash([]);
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) / rect.width) * this.canvas.width,
      y: ((e.clientY - rect.top) / rect.height) * this.canvas.height,
    };
  }

  stroke(from, to) {
    const layer = this.layer();
    penStroke(layer.ctx, from, to, this.brush, this.brush);
    layer.hasInk = true;
  }

  onDown(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.focus({ preventScroll: true });
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events may not be capturable; the gesture still works without capture.
    }
    const p = this.point(e);
    const layer = this.layer();
    if (layer.digit) { // a placed digit: the pointer drags it
      this.gesture = { pointerId: e.pointerId, start: p, dx: layer.dx, dy: layer.dy };
      return;
    }
    this.gesture = { pointerId: e.pointerId, last: p };
    this.stroke(p, p);
    this.changed('draw');
  }

  onMove(e) {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    e.preventDefault();
    const layer = this.layer();
    if (g.start) {
      const p = this.point(e);
      const [dx, dy] = [layer.dx, layer.dy];
      layer.shift(g.dx + (p.x - g.start.x) / this.scale, g.dy + (p.y - g.start.y) / this.scale, this.maxShift);
      if (layer.dx !== dx || layer.dy !== dy) this.changed('move');
      return;
    }
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of (events.length ? events : [e])) {
      const p = this.point(ev);
      this.stroke(g.last, p);
      g.last = p;
    }
    this.changed('draw');
  }

  onUp(e) {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    if (this.canvas.hasPointerCapture && this.canvas.hasPointerCapture(e.pointerId)) {
      this.canvas.releasePointerCapture(e.pointerId);
    }
    this.dispatchEvent(new CustomEvent('gestureend', { detail: { reason: g.start ? 'move' : 'draw' } }));
  }

  /** Arrow keys move the active pen's placed digit by one pixel. */
  onKey(e) {
    const step = {
      ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1],
    }[e.key];
    const layer = this.layer();
    if (!step || !layer.digit) return;
    e.preventDefault();
    const [dx, dy] = [layer.dx, layer.dy];
    layer.shift(dx + step[0], dy + step[1], this.maxShift);
    if (layer.dx !== dx || layer.dy !== dy) this.changed('move');
  }
}
