// Misplaced parts: rearrange the current input in the page, send it to POST /api/compare,
// and set both networks' answers for the rearranged digit beside those for the original.
import * as api from '../../engine.js';
import { renderGray } from '../../lib/heatmap.js';
import { answerCard, showAnswer, MODELS } from './answers.js';
import { REARRANGEMENTS } from './rearrange.js';
import { BusyQueue } from '../../lib/queue.js';

export class MisplaceView {
  /**
   * els: {root, buttons, explain, original, rearranged, originalCapsnet, originalCnn,
   *       rearrangedCapsnet, rearrangedCnn, caption, note}
   */
  constructor(els, { onError }) {
    this.els = els;
    this.pixels = null;
    this.original = null; // the /api/compare answer for the untouched input
    this.shown = null; // the rearrangement on show
    this.queue = new BusyQueue(els.root, onError);
    this.cards = {
      original: { capsnet: answerCard(els.originalCapsnet, 'capsnet'), cnn: answerCard(els.originalCnn, 'cnn') },
      rearranged: { capsnet: answerCard(els.rearrangedCapsnet, 'capsnet'), cnn: answerCard(els.rearrangedCnn, 'cnn') },
    };
    const items = [];
    els.buttons.replaceChildren(...Object.entries(REARRANGEMENTS).map(([key, r]) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = `misplace-${key}`;
      button.dataset.rearrangement = key;
      button.textContent = r.label;
      button.setAttribute('aria-describedby', `misplace-${key}-explain`);
      button.addEventListener('click', () => this.apply(key));
      const item = document.createElement('li');
      item.id = `misplace-${key}-explain`;
      const name = document.createElement('strong');
      name.textContent = r.label;
      item.append(name, `: ${r.explain}.`);
      items.push(item);
      return button;
    }));
    els.explain.replaceChildren(...items);
  }

  /** A new input: earlier answers are about another digit. */
  setPixels(pixels) {
    this.pixels = pixels;
    this.original = null;
  }

  /** Show the current input rearranged as the last one was. */
  refresh() {
    if (this.shown) this.apply(this.shown);
  }

  apply(key) {
    if (!this.pixels) return;
    const { pixels } = this;
    const rearranged = REARRANGEMENTS[key].apply(pixels);
    this.shown = key;
    for (const b of this.els.buttons.children) b.setAttribute('aria-pressed', String(b.dataset.rearrangement === key));
    this.queue.submit(async (signal) => {
      if (!this.original || this.original.pixels !== pixels) {
        const answer = await api.compare(pixels, {}, signal);
        if (signal.aborted) return;
        this.original = { pixels, answer };
        this.show('original', answer);
      }
      const answer = await api.compare(rearranged, {}, signal);
      if (signal.aborted) return;
      this.show('rearranged', answer, this.original.answer);
      this.els.caption.textContent = REARRANGEMENTS[key].label;
      this.describe(key, this.original.answer, answer);
    }, { abortCurrent: true });
  }

  show(which, answer, original = null) {
    renderGray(this.els[which], answer.input);
    for (const id of Object.keys(MODELS)) {
      showAnswer(this.cards[which][id], answer[id], original ? original[id].prediction : null);
    }
  }

  /** How each network's confidence in its original answer changed. */
  describe(key, before, after) {
    const parts = Object.entries(MODELS).map(([id, model]) => {
      const digit = before[id].prediction;
      const was = model.scores(before[id])[digit];
      const now = model.scores(after[id])[digit];
      const verdict = after[id].prediction === digit ? `still predicts ${digit}` : `now predicts ${after[id].prediction}`;
      return `the ${model.name} ${verdict} (its ${model.measure} for ${digit} went from ${was.toFixed(3)} to ${now.toFixed(3)})`;
    });
    const text = `${REARRANGEMENTS[key].label}: ${parts.join('; ')}.`;
    this.els.note.textContent = text.charAt(0).toUpperCase() + text.slice(1);
  }
}
