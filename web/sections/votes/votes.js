// The votes (the article's boat and house, on real data): every primary capsule's vote
// u_hat_{j|i} for one digit capsule j, projected on the two PCA axes the server chose for j,
// each dot as opaque as its coupling c_ij in the iteration the routing view shows, and v_j
// after each iteration. Beside it the agreement per digit and iteration, and the evidence map.
import * as api from '../../engine.js';
import { fmt } from '../../lib/heatmap.js';
import { argmax } from '../../lib/bars.js';
import { EvidenceOverlay } from './evidence.js';
import { BusyQueue } from '../../lib/queue.js';

const SVG = 'http://www.w3.org/2000/svg';
const svgEl = (name, attrs = {}) => {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};
const VIEW = { w: 520, h: 360, pad: 34 };

export class VotesView {
  /** els: {section, plot, projection, agreement, caption, overlay...}; onError(err). */
  constructor(els, { onError, onSelectCapsule = () => {}, onHover = () => {} }) {
    this.els = els;
    this.onSelectCapsule = onSelectCapsule;
    this.queue = new BusyQueue(els.section, onError);
    this.evidence = new EvidenceOverlay(els);
    this.pixels = null;
    this.iterations = null;
    this.digit = null;
    this.iteration = 0;
    this.answer = null;
    this.answered = null; // the request the answer belongs to
    this.visible = false;
    this.selected = null; // capsule index in the votes' order
    new IntersectionObserver((entries) => {
      this.visible = entries[entries.length - 1].isIntersecting;
      if (this.visible) this.request();
    }, { rootMargin: '300px' }).observe(els.section);
    const capsuleOf = (e) => (e.target.dataset && e.target.dataset.capsule !== undefined
      ? Number(e.target.dataset.capsule) : null);
    els.plot.addEventListener('click', (e) => {
      if (capsuleOf(e) !== null) this.onSelectCapsule(capsuleOf(e));
    });
    els.plot.addEventListener('pointerover', (e) => onHover(capsuleOf(e)));
    els.plot.addEventListener('pointerleave', () => onHover(null));
  }

  /** Lay the agreement table out from the model's geometry before any data arrive. */
  reserve(geo) {
    this.dims = geo.digitDim; // each vote's length, as a digit capsule's
    if (!this.answer) this.renderAgreementTable(Array.from({ length: geo.iterations }, () => new Array(geo.digits).fill(null)));
  }

  /** The analysed 28x28 input, the routing iterations it was analysed with, the number of
   * digit capsules (the table is laid out before its numbers arrive: nothing jumps). */
  setInput(pixels, iterations, digits) {
    this.pixels = pixels;
    this.iterations = iterations;
    this.evidence.setInput(pixels);
    if (!this.answer) this.renderAgreementTable(Array.from({ length: iterations }, () => new Array(digits).fill(null)));
    this.request();
  }

  /** The digit capsule j and the routing iteration (0-based) the routing view shows. */
  show(digit, iteration) {
    this.iteration = iteration;
    if (digit !== this.digit) {
      this.digit = digit;
      this.request();
    } else {
      this.draw();
    }
  }

  request() {
    if (!this.visible || !this.pixels || this.digit === null) return;
    const key = { pixels: this.pixels, iterations: this.iterations, digit: this.digit };
    if (this.answered && Object.keys(key).every((k) => this.answered[k] === key[k])) return;
    this.answered = key;
    this.els.caption.textContent = `Computing the votes for digit capsule ${key.digit}\u2026`;
    this.queue.submit(async (signal) => {
      const answer = await api.votes(key.pixels, key.digit, key.iterations, signal);
      if (signal.aborted) return;
      this.answer = answer;
      this.build();
      this.draw();
      this.evidence.setAnswer(answer);
    }, { abortCurrent: true });
  }

  /** The dots, once per answer; draw() only changes their opacity and size. */
  build() {
    const { points, digit_caps: path, projection } = this.answer;
    const all = points.concat(path);
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const s = Math.min((VIEW.w - 2 * VIEW.pad) / (x1 - x0 || 1), (VIEW.h - 2 * VIEW.pad) / (y1 - y0 || 1));
    this.X = (v) => VIEW.pad + (v - x0) * s;
    this.Y = (v) => VIEW.h - VIEW.pad - (v - y0) * s; // up is positive, as in a plot
    const svg = this.els.plot;
    svg.setAttribute('viewBox', `0 0 ${VIEW.w} ${VIEW.h}`);
    const [r1, r2] = projection.explained_variance_ratio.map((r) => `${(100 * r).toFixed(1)}%`);
    const axis = [
      svgEl('line', { x1: this.X(0), x2: this.X(0), y1: VIEW.pad / 2, y2: VIEW.h - VIEW.pad / 2, class: 'votes-axis' }),
      svgEl('line', { y1: this.Y(0), y2: this.Y(0), x1: VIEW.pad / 2, x2: VIEW.w - VIEW.pad / 2, class: 'votes-axis' }),
    ];
    const label1 = svgEl('text', { x: VIEW.w - 4, y: VIEW.h - 6, 'text-anchor': 'end', class: 'votes-label' });
    label1.textContent = `axis 1 (${r1} of the variance)`;
    const label2 = svgEl('text', { x: 4, y: 12, class: 'votes-label' });
    label2.textContent = `axis 2 (${r2})`;
    this.dots = points.map((p, i) => svgEl('circle', {
      cx: this.X(p[0]).toFixed(1), cy: this.Y(p[1]).toFixed(1), r: 2, class: 'vote', 'data-capsule': i,
    }));
    const dotGroup = svgEl('g');
    dotGroup.append(...this.dots);
    this.trail = svgEl('polyline', { class: 'vj-trail' });
    this.marks = path.map((p, k) => {
      const g = svgEl('g', { class: 'vj', 'data-iteration': k });
      const x = this.X(p[0]);
      const y = this.Y(p[1]);
      g.append(svgEl('path', { d: `M${x - 7},${y - 7}L${x + 7},${y + 7}M${x - 7},${y + 7}L${x + 7},${y - 7}` }));
      const t = svgEl('text', { x: x + 8, y: y - 8 });
      t.textContent = String(k + 1);
      g.append(t);
      return g;
    });
    this.selectedMark = svgEl('circle', { r: 7, class: 'vote-selected', visibility: 'hidden' });
    svg.replaceChildren(...axis, label1, label2, dotGroup, this.trail, ...this.marks, this.selectedMark);
    this.els.projection.textContent = `Projection: the two principal axes (PCA) of digit capsule ${this.answer.digit}'s `
      + `votes over ${projection.images ? `the first ${projection.images}` : 'a set of'} MNIST test digits, fixed for every `
      + `input; they keep ${r1} and ${r2} of those votes' variance `
      + `in ${this.dims} dimensions, so dots that look close may still differ in the other ${this.dims - 2}.`;
    this.renderAgreementTable(this.answer.agreement, this.answer.lengths);
  }

  draw() {
    const a = this.answer;
    if (!a || a.digit !== this.digit) return;
    const k = Math.min(this.iteration, a.coupling.length - 1);
    const c = a.coupling[k];
    const cmax = Math.max(...a.coupling.flat(), 1e-6); // one scale for every iteration
    this.dots.forEach((dot, i) => {
      const t = c[i] / cmax;
      dot.setAttribute('opacity', t.toFixed(4));
      dot.setAttribute('r', (1 + 2.5 * Math.sqrt(t)).toFixed(2));
    });
    this.trail.setAttribute('points', a.digit_caps.slice(0, k + 1)
      .map((p) => `${this.X(p[0]).toFixed(1)},${this.Y(p[1]).toFixed(1)}`).join(' '));
    this.marks.forEach((m, n) => {
      m.setAttribute('visibility', n <= k ? 'visible' : 'hidden');
      m.classList.toggle('current', n === k);
    });
    this.markSelected();
    for (const row of this.els.agreement.querySelectorAll('tr')) {
      row.classList.toggle('chosen', row.dataset.digit === String(a.digit));
      for (const cell of row.children) cell.classList.toggle('current', cell.dataset.iteration === String(k));
    }
    const best = argmax(a.agreement[k]);
    this.els.plot.setAttribute('aria-label', `The ${c.length} votes for digit capsule ${a.digit} in 2-D, `
      + `opacity = coupling in iteration ${k + 1}; v_${a.digit} has length ${fmt(a.lengths[k][a.digit], 3)}.`);
    this.els.caption.textContent = `Iteration ${k + 1} of ${a.coupling.length}: the votes agree most on digit ${best} `
      + `(agreement ${fmt(a.agreement[k][best], 3)}); digit ${a.digit}: ${fmt(a.agreement[k][a.digit], 3)}, `
      + `|v_${a.digit}| = ${fmt(a.lengths[k][a.digit], 3)}.`;
  }

  /** Mark primary capsule `index` (votes' order) on the plot, or none (null). */
  select(index) {
    this.selected = index;
    this.markSelected();
  }

  markSelected() {
    if (!this.dots) return;
    const dot = this.selected === null ? null : this.dots[this.selected];
    this.selectedMark.setAttribute('visibility', dot ? 'visible' : 'hidden');
    if (dot) {
      this.selectedMark.setAttribute('cx', dot.getAttribute('cx'));
      this.selectedMark.setAttribute('cy', dot.getAttribute('cy'));
    }
  }

  /** agreement, lengths: iterations x digits (null: not yet known). */
  renderAgreementTable(agreement, lengths = null) {
    const head = document.createElement('tr');
    head.append(...['digit', ...agreement.map((_, k) => `it. ${k + 1}`)].map((text) => {
      const th = document.createElement('th');
      th.textContent = text;
      return th;
    }));
    const rows = agreement[0].map((_, d) => {
      const tr = document.createElement('tr');
      tr.dataset.digit = String(d);
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = String(d);
      tr.append(th, ...agreement.map((scores, k) => {
        const td = document.createElement('td');
        td.dataset.iteration = String(k);
        if (!lengths) {
          td.textContent = '\u2026';
          return td;
        }
        td.textContent = fmt(scores[d], 3);
        td.title = `Digit ${d}, iteration ${k + 1}: agreement ${scores[d].toFixed(4)}, |v_${d}| = ${lengths[k][d].toFixed(4)}`;
        td.classList.toggle('best', d === argmax(scores));
        return td;
      }));
      return tr;
    });
    const thead = document.createElement('thead');
    thead.append(head);
    const tbody = document.createElement('tbody');
    tbody.append(...rows);
    this.els.agreement.replaceChildren(thead, tbody);
  }
}
