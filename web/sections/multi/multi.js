// "Two digits at once": the paper's Figure 5, live, on the CapsNet trained on MultiMNIST.
// Two pens (or two gallery digits dragged over each other) -> POST /api/multi/analyze -> the
// ten capsule lengths, the two longest, each redrawn from its own capsule, and where routing moved
// the votes; sliders and the absent digit ask POST /api/multi/reconstruct. Nothing is asked
// before the section is near the screen; errors show in the section's own status line.
import * as api from '../../engine.js';
import { StatusLine } from '../../lib/status.js';
import { renderGray } from '../../lib/heatmap.js';
import { renderBars } from '../../lib/bars.js';
import { loadGalleryIndex, loadPixels, galleryImage } from '../../lib/gallery.js';
import { MultiPad, PENS } from './multi-pad.js';
import { MultiSliders } from './multi-sliders.js';
import { AbsentDigitView } from './multi-absent.js';
import { RoutingSharesView } from './multi-routing.js';
import { asImage, drawOverlay } from './multi-draw.js';
import { LatestQueue } from '../../lib/queue.js';

const $ = (id) => document.getElementById(id);
const DRAW_DEBOUNCE_MS = 150;
const signed = (v) => (v > 0 ? `+${v}` : (v < 0 ? `\u2212${-v}` : '0'));

export class MultiSection {
  /**
   * digitSize: the size of one MNIST digit (/api/model's input); halfRange: the sliders' reach;
   * iterationsRange, iterations: the routing iterations the server allows, and its default.
   */
  constructor({ digitSize, halfRange, iterationsRange, iterations }) {
    this.section = $('multi');
    this.digitSize = digitSize;
    this.status = new StatusLine($('multi-status'));
    this.onError = (err) => this.status.error(err);
    this.queues = [];
    this.analysis = this.queue();
    this.decoding = this.queue();
    this.absentQueue = this.queue();
    this.timer = 0;
    this.result = null;
    this.images = null; // {input, a, b} as shown: a and b follow the sliders
    this.analyses = 0;
    this.sliders = new MultiSliders({
      which: $('multi-slider-capsule'), sliders: $('multi-sliders'), reset: $('multi-slider-reset'),
    }, {
      halfRange,
      onMove: (pen, digit, vector) => this.decode(pen, digit, vector),
      onReset: (pen) => {
        this.decoding.cancel();
        this.showReconstruction(pen, asImage(this.result.reconstructions[pen]));
      },
    });
    this.absent = new AbsentDigitView({
      digit: $('multi-absent-digit'), canvas: $('multi-absent'), note: $('multi-absent-note'),
    }, { submit: (task) => this.run(this.absentQueue, task, { abortCurrent: true }) });
    this.routing = new RoutingSharesView({
      runs: $('multi-routing-runs'), iteration: $('multi-routing-iteration'),
      a: $('multi-routing-a'), b: $('multi-routing-b'), summary: $('multi-routing-summary'),
    }, { range: iterationsRange, iterations, onRuns: () => this.schedule(0) });
    const observer = new IntersectionObserver((entries) => {
      if (!entries[entries.length - 1].isIntersecting) return;
      observer.disconnect();
      this.load();
    }, { rootMargin: '200px' });
    observer.observe(this.section);
  }

  queue() {
    const queue = new LatestQueue(this.onError, { onIdle: () => this.updateBusy() });
    this.queues.push(queue);
    return queue;
  }

  run(queue, task, options) {
    this.section.dataset.busy = 'true';
    queue.submit(task, options);
  }

  /** section[data-busy] is present while an input waits to be sent or a request runs. */
  updateBusy() {
    if (this.timer || this.queues.some((q) => q.busy || q.pending)) return;
    this.section.removeAttribute('data-busy');
  }

  /** What needs the model's answer only once: its size and accuracy, the gallery, a first pair. */
  async load() {
    try {
      const models = await api.get('models');
      const model = models.find((m) => m.id === 'multimnist');
      if (!model) throw new Error('This page has no MultiMNIST model: the section cannot run.');
      $('multi-accuracy').textContent = Number.isFinite(model.test_accuracy)
        ? `${(100 * model.test_accuracy).toFixed(2)}%` : 'a share not measured yet';
      const [size] = model.input_shape;
      for (const el of this.section.querySelectorAll('[data-multi=input]')) el.textContent = `${size}\u00d7${size}`;
      for (const el of this.section.querySelectorAll('[data-multi=shift]')) el.textContent = String((size - this.digitSize) / 2);
      this.pad = new MultiPad($('multi-pad'), { size, maxShift: (size - this.digitSize) / 2 });
      this.wire();
      const entries = await loadGalleryIndex();
      this.renderGallery(entries);
      // A first pair, so that the section never starts empty: the first two different digits.
      const first = [entries[0], entries.find((e) => e.label !== entries[0].label)];
      const digits = await Promise.all(first.map((entry) => this.loadDigit(entry)));
      if (this.pad.empty) PENS.forEach((pen, i) => this.pad.place(pen, digits[i]));
    } catch (err) {
      this.onError(err);
    }
  }

  wire() {
    for (const pen of PENS) {
      $(`multi-pen-${pen}`).addEventListener('click', () => this.setPen(pen));
      $(`multi-clear-${pen}`).addEventListener('click', () => this.pad.clear(pen));
    }
    $('multi-clear').addEventListener('click', () => this.pad.clear());
    this.pad.addEventListener('change', (e) => {
      this.status.clear();
      this.describeInput();
      if (e.detail.reason !== 'draw') this.schedule(0);
      else if (!this.timer) this.schedule(DRAW_DEBOUNCE_MS);
    });
    this.pad.addEventListener('gestureend', () => { if (this.timer) this.schedule(30); });
    this.pad.canvas.addEventListener('keydown', (e) => {
      if (PENS.includes(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) this.setPen(e.key);
    });
    this.setPen('a');
  }

  setPen(pen) {
    this.pad.setPen(pen);
    for (const p of PENS) $(`multi-pen-${p}`).setAttribute('aria-pressed', p === pen ? 'true' : 'false');
    this.describeInput();
  }

  async loadDigit(entry) {
    const { img, pixels } = await loadPixels(galleryImage(entry));
    return {
      pixels, image: img, label: entry.label, testIndex: entry.test_index,
    };
  }

  renderGallery(entries) {
    $('multi-gallery').replaceChildren(...entries.map((entry) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'gallery-item';
      button.dataset.testid = `multi-gallery-${entry.label}-${entry.test_index}`;
      button.setAttribute('aria-label', `Place MNIST test digit ${entry.label} (test image ${entry.test_index}) with the active pen`);
      const img = document.createElement('img');
      img.src = galleryImage(entry);
      img.alt = '';
      button.append(img);
      button.addEventListener('click', async () => {
        const { pen } = this.pad;
        try {
          this.pad.place(pen, await this.loadDigit(entry));
        } catch (err) {
          this.onError(err);
          return;
        }
        const other = PENS.find((p) => p !== pen);
        if (this.pad.layer(other).empty) this.setPen(other); // the second digit goes to the other pen
      });
      return button;
    }));
  }

  /** Each layer in words: on the pad's label and under it. */
  describeInput() {
    const say = (pen) => {
      const layer = this.pad.layer(pen);
      if (layer.digit) return `${pen}: MNIST test digit ${layer.digit.label} (#${layer.digit.testIndex}) at dx ${signed(layer.dx)}, dy ${signed(layer.dy)}`;
      return `${pen}: ${layer.hasInk ? 'drawn' : 'empty'}`;
    };
    const text = `${PENS.map(say).join('; ')}. Active pen: ${this.pad.pen}.`;
    $('multi-offsets').textContent = text;
    this.pad.canvas.setAttribute('aria-label', `Pad for two digits, one per pen (keys a and b choose the pen; `
      + `the arrow keys move a placed digit). ${text}`);
  }

  schedule(ms) {
    if (this.timer) clearTimeout(this.timer);
    this.section.dataset.busy = 'true';
    this.timer = setTimeout(() => this.send(), ms);
  }

  send() {
    this.timer = 0;
    const body = this.pad.body();
    renderGray($('multi-seen'), body && body.pixels ? body.pixels : this.pad.pixels());
    if (!body) {
      this.analysis.cancel();
      this.updateBusy();
      return;
    }
    this.run(this.analysis, async (signal) => {
      const started = performance.now();
      const result = await api.multiAnalyze({ ...body, routing_iterations: this.routing.runs }, signal);
      if (signal.aborted) return;
      this.render(result);
      this.status.set(`Analysed in ${Math.round(performance.now() - started)} ms.`, 'ok');
    });
  }

  render(result) {
    this.result = result;
    this.analyses += 1;
    const [a, b] = result.top2;
    const input = asImage(result.input);
    renderGray($('multi-seen'), input);
    const bars = $('multi-lengths');
    renderBars(bars, result.lengths, { title: 'length' });
    Array.from(bars.children).forEach((col, d) => {
      col.classList.toggle('pick-a', d === a);
      col.classList.toggle('pick-b', d === b);
    });
    const top2 = $('multi-top2');
    const digit = (pen, d) => Object.assign(document.createElement('span'), { className: `pick-${pen}`, textContent: String(d) });
    top2.replaceChildren(digit('a', a), ' and ', digit('b', b));
    top2.dataset.seq = String(this.analyses);
    this.decoding.cancel();
    this.images = { input };
    for (const pen of PENS) this.showReconstruction(pen, asImage(result.reconstructions[pen]));
    this.sliders.setCapsules(result.top2, result.digit_caps);
    this.absent.setResult(result);
    this.routing.setResult(result, input);
  }

  /** Reconstruction a or b (the analysis', or the sliders'), alone and in the overlay. */
  showReconstruction(pen, image) {
    this.images[pen] = image;
    const digit = this.result.top2[pen === 'a' ? 0 : 1];
    const canvas = $(`multi-reconstruction-${pen}`);
    renderGray(canvas, image);
    canvas.setAttribute('aria-label', `Reconstruction ${pen}: the decoder's drawing from digit capsule ${digit}`);
    const { input, a, b } = this.images;
    if (!a || !b) return;
    const overlay = $('multi-overlay');
    drawOverlay(overlay, input, a, b);
    const [da, db] = this.result.top2;
    overlay.setAttribute('aria-label', `The input in grey, reconstruction a (digit ${da}) in orange and b (digit ${db}) in blue`);
  }

  decode(pen, digit, vector) {
    const { result } = this;
    this.run(this.decoding, async (signal) => {
      const answer = await api.multiReconstruct(digit, vector, signal);
      if (signal.aborted || result !== this.result) return;
      this.showReconstruction(pen, asImage(answer.reconstruction));
    });
  }
}
