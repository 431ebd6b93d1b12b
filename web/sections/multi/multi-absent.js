// "Reconstruct a digit that is not there": the MultiMNIST decoder redraws any digit from that
// digit's own capsule of the current input, next to how much it drew for the two chosen ones.
import * as api from '../../engine.js';
import { renderGray } from '../../lib/heatmap.js';
import { asImage, ink } from './multi-draw.js';

export class AbsentDigitView {
  /**
   * els: {digit (a <select> of 0..9), canvas, note}. submit(task) runs `async (signal) => ...`
   * in the section's queue (errors go to its status line).
   */
  constructor(els, { submit }) {
    this.els = els;
    this.submit = submit;
    this.result = null;
    this.chosen = false; // the reader picked a digit: keep it for the next inputs
    els.digit.addEventListener('change', () => {
      this.chosen = true;
      this.request();
    });
  }

  /** A new analysis: redraw the digit chosen, by default the one with the shortest capsule. */
  setResult(result) {
    this.result = result;
    const { digit } = this.els;
    if (digit.options.length !== result.lengths.length) {
      digit.replaceChildren(...result.lengths.map((_, d) => new Option(`digit ${d}`, String(d))));
    }
    if (!this.chosen) {
      const shortest = result.lengths.indexOf(Math.min(...result.lengths));
      digit.value = String(shortest);
    }
    this.request();
  }

  request() {
    const { result } = this;
    if (!result) return;
    const d = Number(this.els.digit.value);
    const vector = result.digit_caps[d].map(Number);
    this.els.note.textContent = `Decoding digit capsule ${d}\u2026`;
    this.submit(async (signal) => {
      const answer = await api.multiReconstruct(d, vector, signal);
      if (signal.aborted || result !== this.result) return;
      const image = asImage(answer.reconstruction);
      renderGray(this.els.canvas, image);
      this.els.canvas.dataset.digit = String(d);
      this.els.canvas.setAttribute('aria-label', `The decoder's drawing from digit capsule ${d}, whose length is ${result.lengths[d].toFixed(3)}`);
      this.els.note.textContent = this.describe(d, ink(image));
    });
  }

  describe(d, drawn) {
    const { result } = this;
    const [a, b] = result.top2;
    const inked = (key) => ink(asImage(result.reconstructions[key])).toFixed(1);
    const length = (digit) => result.lengths[digit].toFixed(3);
    const chosen = `The network chose ${a} (length ${length(a)}, its reconstruction ${inked('a')} of ink) `
      + `and ${b} (length ${length(b)}, ${inked('b')} of ink).`;
    if (d === a || d === b) {
      return `${d} is one of the two digits the network chose. ${chosen} Choose another digit to see one it did not find.`;
    }
    return `Digit capsule ${d}: length ${length(d)}; its reconstruction holds ${drawn.toFixed(1)} of ink `
      + `(the sum of its pixel values, each 0 to 1). ${chosen}`;
  }
}
