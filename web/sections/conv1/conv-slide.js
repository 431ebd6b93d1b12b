// Conv1 in motion (as CNN Explainer shows it): the chosen filter's window slides over the
// input, one output position at a time, and its ReLU map fills in with the values the server
// computed for that position. Play/Pause, or step with the keyboard; with reduced motion
// Play shows the finished map at once.
import { renderAtlas, renderGray } from '../../lib/heatmap.js';
import { receptiveField, placeOutline } from '../../lib/fields.js';

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export class ConvSlide {
  /** els: {input, window, map, play, position}; the map canvas shows the positions done. */
  constructor(els) {
    this.els = els;
    this.field = null; // a ReLU map pixel's window on the input, {size, stride}, from /api/model
    this.pixels = null;
    this.map = null; // {data, h, w, max, filter}
    this.done = 0; // how many output positions are filled in
    this.frame = 0;
    els.play.addEventListener('click', () => (this.frame ? this.pause() : this.play()));
    els.input.addEventListener('keydown', (e) => this.onKey(e));
  }

  setGeometry(geo) {
    this.field = geo.fields.conv1;
    this.inputShape = geo.input;
  }

  setInput(pixels) {
    this.pixels = pixels;
    renderGray(this.els.input, pixels);
  }

  /** The filter shown above and its ReLU map (Float32Array h x w, the engine's values). */
  setMap(filter, data, h, w, max) {
    const old = this.map; // the same map again (a redraw above) keeps its place
    const same = old && old.filter === filter && old.data.buffer === data.buffer && old.data.byteOffset === data.byteOffset;
    this.map = {
      filter, data, h, w, max,
    };
    if (!same) {
      this.pause();
      this.goTo(h * w); // a new filter or input: show its whole map until played
    }
  }

  get total() {
    return this.map ? this.map.h * this.map.w : 0;
  }

  play() {
    if (!this.map) return;
    if (reducedMotion()) {
      this.goTo(this.total);
      return;
    }
    if (this.done >= this.total) this.goTo(0);
    this.els.play.textContent = 'Pause';
    this.els.play.setAttribute('aria-pressed', 'true');
    const tick = () => {
      this.goTo(this.done + 1);
      this.frame = this.done < this.total ? requestAnimationFrame(tick) : 0;
      if (!this.frame) this.pause();
    };
    this.frame = requestAnimationFrame(tick);
  }

  pause() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.els.play.textContent = 'Slide the filter';
    this.els.play.setAttribute('aria-pressed', 'false');
  }

  onKey(e) {
    if (!this.map) return;
    const moves = {
      ArrowRight: 1, ArrowLeft: -1, ArrowDown: this.map.w, ArrowUp: -this.map.w, Home: -this.total, End: this.total,
    };
    if (e.key === ' ') {
      e.preventDefault();
      if (this.frame) this.pause();
      else this.play();
      return;
    }
    if (!(e.key in moves)) return;
    e.preventDefault();
    this.pause();
    this.goTo(this.done + moves[e.key]);
  }

  /** Fill in the first n output positions (row by row) and put the window on the last. */
  goTo(n) {
    const { map } = this;
    if (!map || !this.field) return;
    this.done = Math.max(1, Math.min(this.total, n));
    const partial = new Float32Array(this.total).fill(NaN); // not yet computed: drawn black
    partial.set(map.data.subarray(0, this.done));
    renderAtlas(this.els.map, partial, {
      count: 1, h: map.h, w: map.w, cols: 1, min: 0, max: Math.max(map.max, 1e-6),
    });
    const at = this.done - 1;
    const y = Math.floor(at / map.w);
    const x = at % map.w;
    const [ih, iw] = this.inputShape;
    placeOutline(this.els.window, receptiveField(this.field, y, x), ih, iw);
    this.els.map.dataset.done = String(this.done);
    this.els.position.textContent = `Filter ${map.filter} at row ${y}, column ${x}: its ${this.field.size}\u00d7`
      + `${this.field.size} weights times the input's pixels under the window, summed, plus a bias, then ReLU: `
      + `${map.data[at].toFixed(3)}.`;
  }
}
