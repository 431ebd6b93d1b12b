// Routing by agreement: step or play through the routing iterations.
import {
  decodeQ, renderAtlas, renderLegend, hitTest, placeMarker, fmt, widen, legendLabels, capsuleAtlas, reserveAtlas,
  strideRange,
} from '../../lib/heatmap.js';
import { renderBars, argmax } from '../../lib/bars.js';
import { moveCapsule } from '../primary/primary.js';
import { capsuleIndex, gridOf } from '../../lib/capsules.js';

const HOLD_MS = 500; // each iteration stays on screen this long while playing
const BLEND_MS = 700; // and blends into the next over this long (the bars' transition in style.css)
const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export class RoutingView {
  /**
   * els: {heat, marker, legend, bars, step, prev, next, play, position, digit, caption}
   * onSelectCapsule(type, row, col) is called when a capsule of the heat map is clicked;
   * onShow(digit, iteration) whenever another digit or iteration is shown (the votes follow).
   */
  constructor(els, {
    onSelectCapsule, onShow = () => {}, onHover = () => {}, onSelectDigit = () => {},
  }) {
    this.els = els;
    this.onHover = onHover; // {type, row, col} under the pointer, or null
    this.onSelectDigit = onSelectDigit; // a bar was clicked
    this.onSelectCapsule = onSelectCapsule;
    this.onShow = onShow;
    this.iterations = [];
    this.current = 0;
    this.digit = null; // null: follow the winning digit
    this.winner = 0;
    this.timer = null; // playing: waiting before the next blend
    this.frame = 0; // playing: blending into the next iteration
    this.layout = null;
    this.selected = null;

    this.stretch = els.stretch.checked;
    els.stretch.addEventListener('change', () => {
      this.stretch = els.stretch.checked;
      this.show(this.current);
    });
    els.prev.addEventListener('click', () => { this.stop(); this.show(this.current - 1); });
    els.next.addEventListener('click', () => { this.stop(); this.show(this.current + 1); });
    els.play.addEventListener('click', () => (this.timer || this.frame ? this.stop() : this.play()));
    els.position.addEventListener('input', () => {
      this.stop();
      this.show(Number(els.position.value) - 1);
    });
    els.heat.addEventListener('click', (e) => {
      const hit = hitTest(els.heat, this.layout, e);
      if (hit) this.onSelectCapsule(hit.index, hit.y, hit.x);
    });
    els.heat.addEventListener('mousemove', (e) => {
      const hit = hitTest(els.heat, this.layout, e);
      this.onHover(hit && { type: hit.index, row: hit.y, col: hit.x });
      els.heat.title = hit ? this.describe(hit.index, hit.y, hit.x) : '';
    });
    els.heat.addEventListener('pointerleave', () => this.onHover(null));
    els.heat.addEventListener('keydown', (e) => {
      if (!this.selected || !this.iterations.length) return;
      const moved = moveCapsule(e, this.selected, gridOf(this.iterations[0].coupling.shape));
      if (moved) this.onSelectCapsule(moved.type, moved.row, moved.col);
    });
  }

  /** routing: the API's {"iterations": [{coupling: Q [rows, cols, types, digits], lengths: [digits]}]} */
  setData(routing, winner) {
    this.stop();
    this.iterations = routing.iterations.map((it) => ({
      coupling: decodeQ(it.coupling),
      lengths: it.lengths,
    }));
    this.winner = winner;
    const n = this.iterations.length;
    this.els.position.max = String(n);
    this.els.position.disabled = n < 2;
    this.els.play.disabled = n < 2;
    this.show(n - 1);
  }

  /** Size the heat map from the model's geometry before any data arrive. */
  reserve(geo) {
    reserveAtlas(this.els.heat, capsuleAtlas(geo.primary.types, ...geo.primary.grid));
  }

  /** Index of capsule (type, row, col)'s coupling to digit 0; its coupling to d is at + d. */
  offset(type, row, col) {
    const { shape } = this.iterations[0].coupling;
    return capsuleIndex(gridOf(shape), type, row, col) * shape[3];
  }

  get digits() {
    return this.iterations[0].coupling.shape[3];
  }

  /** Final-iteration coupling of capsule (type, row, col) to each digit. */
  finalCoupling(type, row, col) {
    const last = this.iterations[this.iterations.length - 1];
    if (!last) return null;
    const base = this.offset(type, row, col);
    return Array.from(last.coupling.data.subarray(base, base + this.digits));
  }

  /** Show the coupling towards digit d (null: the winning digit); main.js calls it for every
   * view's choice of digit capsule, this view's select included. */
  setDigit(d) {
    this.digit = d;
    this.els.digit.value = d === null ? 'auto' : String(d);
    this.show(this.current);
  }

  targetDigit() {
    return this.digit === null ? this.winner : this.digit;
  }

  describe(type, row, col) {
    const it = this.iterations[this.current];
    if (!it) return '';
    const d = this.targetDigit();
    const c = it.coupling.data[this.offset(type, row, col) + d];
    return `Primary capsule type ${type}, row ${row}, column ${col}: coupling to digit ${d} = ${c.toFixed(3)} in iteration ${this.current + 1}`;
  }

  /** Move the marker to capsule c without selecting it (a hover elsewhere). */
  mark(c) {
    placeMarker(this.els.marker, this.layout, c.type, c.row, c.col);
  }

  select(type, row, col) {
    this.selected = { type, row, col };
    placeMarker(this.els.marker, this.layout, type, row, col);
    this.updateCaption();
  }

  updateCaption() {
    const { caption } = this.els;
    if (!this.selected || !this.iterations[this.current]) {
      caption.textContent = '';
      return;
    }
    caption.textContent = `${this.describe(this.selected.type, this.selected.row, this.selected.col)}.`;
  }

  show(index) {
    const n = this.iterations.length;
    if (!n) return;
    this.current = Math.max(0, Math.min(n - 1, index));
    const it = this.iterations[this.current];
    const d = this.targetDigit();
    const { min, max } = this.colourRange(d);
    const [rows, cols, types, digits] = it.coupling.shape;
    this.layout = renderAtlas(this.els.heat, it.coupling.data, {
      ...capsuleAtlas(types, rows, cols, digits), min, max, offset: d,
    });
    renderLegend(this.els.legend, 'viridis', legendLabels(min, max));
    this.els.heat.setAttribute('aria-label',
      `Coupling of the ${types * rows * cols} primary capsules to digit ${d} in routing iteration ${this.current + 1} of ${n}`);
    renderBars(this.els.bars, it.lengths, {
      winner: argmax(it.lengths), title: 'length', onSelect: this.onSelectDigit, chosen: d,
    });
    this.els.step.textContent = `Iteration ${this.current + 1} of ${n}`;
    this.els.position.value = String(this.current + 1);
    this.els.prev.disabled = this.current === 0;
    this.els.next.disabled = this.current === n - 1;
    this.els.digitName.textContent = String(d);
    let mean = 0;
    const { data } = it.coupling;
    for (let i = d; i < data.length; i += digits) mean += data[i];
    mean /= data.length / digits;
    this.els.summary.textContent = `Average coupling to ${d}: ${fmt(mean, 3)} (uniform would be ${(1 / digits).toFixed(3)}). `
      + `Longest digit capsule after this iteration: ${argmax(it.lengths)}.`;
    if (this.selected) placeMarker(this.els.marker, this.layout, this.selected.type, this.selected.row, this.selected.col);
    this.updateCaption();
    this.onShow(d, this.current);
  }

  /** Colour range: 0..1, or stretched to the couplings to digit d over all iterations. */
  colourRange(d) {
    if (!this.stretch) return { min: 0, max: 1 };
    const { min, max } = strideRange(this.iterations.map((it) => it.coupling.data), d, this.digits);
    return widen(min, max);
  }

  /** Play: each step blends the coupling heat map from one iteration into the next (the
   * bars follow by a CSS transition) rather than jumping; with reduced motion it jumps. */
  play() {
    if (this.iterations.length < 2) return;
    if (this.current >= this.iterations.length - 1) this.show(0);
    this.els.play.textContent = 'Pause';
    this.els.play.setAttribute('aria-pressed', 'true');
    const step = () => {
      if (this.current >= this.iterations.length - 1) {
        this.stop();
        return;
      }
      this.blendTo(this.current + 1, () => { this.timer = setTimeout(step, HOLD_MS); });
    };
    this.timer = setTimeout(step, HOLD_MS);
  }

  blendTo(index, done) {
    if (reducedMotion()) {
      this.show(index);
      done();
      return;
    }
    const d = this.targetDigit();
    const from = this.iterations[this.current];
    const to = this.iterations[index];
    const [rows, cols, types, digits] = to.coupling.shape;
    const { min, max } = this.colourRange(d);
    renderBars(this.els.bars, to.lengths, {
      winner: argmax(to.lengths), title: 'length', onSelect: this.onSelectDigit, chosen: d,
    });
    const a = from.coupling.data;
    const b = to.coupling.data;
    const mix = new Float32Array(a.length);
    const start = performance.now();
    const frame = (now) => {
      const t = Math.min(1, (now - start) / BLEND_MS);
      for (let i = d; i < mix.length; i += digits) mix[i] = a[i] + (b[i] - a[i]) * t;
      renderAtlas(this.els.heat, mix, {
        ...capsuleAtlas(types, rows, cols, digits), min, max, offset: d,
      });
      this.els.heat.dataset.blend = t.toFixed(3); // how far between the two iterations (tests)
      if (t < 1) {
        this.frame = requestAnimationFrame(frame);
        return;
      }
      this.frame = 0;
      delete this.els.heat.dataset.blend;
      this.show(index);
      done();
    };
    this.frame = requestAnimationFrame(frame);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.timer = null;
    this.frame = 0;
    delete this.els.heat.dataset.blend;
    this.els.play.textContent = 'Play';
    this.els.play.setAttribute('aria-pressed', 'false');
  }
}
