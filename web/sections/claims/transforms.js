// Transform sliders: rotate, stretch, shear, shift or thicken the current input and watch both
// networks answer while dragging (the newest position wins, as for drawing). The parameters,
// their ranges, defaults and units are GET /api/model's `transforms`.
import * as api from '../../engine.js';
import { renderGray, fmt } from '../../lib/heatmap.js';
import { answerCard, showAnswer } from './answers.js';
import { BusyQueue } from '../../lib/queue.js';

const LABELS = {
  rotation: 'Rotation', scale: 'Scale', scale_x: 'Scale x', scale_y: 'Scale y',
  shear: 'Shear', dx: 'Shift x', dy: 'Shift y', thickness: 'Thickness',
};
export const labelOf = (name) => LABELS[name] || name;

/** The parameters in the page's order (LABELS'), then any others the model's table adds. */
export function orderedNames(transforms) {
  const known = Object.keys(LABELS);
  const rank = (name) => (known.includes(name) ? known.indexOf(name) : known.length);
  return Object.keys(transforms).sort((a, b) => rank(a) - rank(b));
}

/** A parameter's range; the robustness table's 'scale' (both axes alike) reads scale_x's. */
export const specOf = (transforms, name) => transforms[name] || transforms[`${name}_x`];

/** A slider step of about 1/50 of the range, rounded down to a power of ten. */
const stepOf = (spec) => 10 ** Math.floor(Math.log10((spec.max - spec.min) / 50));
const decimalsOf = (spec) => Math.max(0, -Math.log10(stepOf(spec)));

export function formatValue(value, spec, decimals = decimalsOf(spec)) {
  const v = fmt(value, decimals);
  if (spec.unit === 'degrees') return `${v}\u00b0`;
  if (spec.unit === 'factor') return `\u00d7${v}`;
  return `${v} ${spec.unit}`;
}

export class TransformView {
  /**
   * els: {root, sliders, reset, input, capsnet, cnn, note}; transforms: /api/model's table.
   * onChange(values) follows every slider move (the sweep marks the current value).
   */
  constructor(els, { transforms, onError, onChange }) {
    this.els = els;
    this.transforms = transforms;
    this.onChange = onChange;
    this.inputs = {};
    this.outputs = {};
    this.pixels = null; // the analysed input, 28x28 in 0..1
    this.frame = 0;
    this.queue = new BusyQueue(els.root, onError);
    this.cards = { capsnet: answerCard(els.capsnet, 'capsnet'), cnn: answerCard(els.cnn, 'cnn') };
    els.sliders.replaceChildren(...orderedNames(transforms).map((name) => this.slider(name, transforms[name])));
    els.reset.addEventListener('click', () => {
      for (const [name, spec] of Object.entries(transforms)) this.inputs[name].value = String(spec.default);
      this.moved(true);
    });
  }

  slider(name, spec) {
    const id = `transform-${name.replace(/_/g, '-')}`;
    const row = document.createElement('div');
    row.className = 'slider-row transform-row';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = labelOf(name);
    const input = document.createElement('input');
    Object.assign(input, {
      type: 'range', id, min: String(spec.min), max: String(spec.max), step: String(stepOf(spec)),
      value: String(spec.default), title: spec.description || '',
    });
    input.dataset.testid = id;
    input.dataset.parameter = name;
    const output = document.createElement('output');
    output.setAttribute('aria-live', 'off'); // an <output> is a live region: not while dragging
    output.htmlFor = id;
    input.addEventListener('input', () => this.moved(false));
    row.append(label, input, output);
    this.inputs[name] = input;
    this.outputs[name] = output;
    this.showValue(name);
    return row;
  }

  showValue(name) {
    const spec = this.transforms[name];
    const text = formatValue(Number(this.inputs[name].value), spec);
    this.outputs[name].textContent = text;
    this.inputs[name].setAttribute('aria-valuetext', `${text}${spec.description ? `, ${spec.description}` : ''}`);
  }

  /** Set the sliders (a link's values; unknown names are ignored) and ask both models. */
  setValues(values) {
    for (const [name, value] of Object.entries(values)) {
      if (this.inputs[name]) this.inputs[name].value = String(value);
    }
    this.moved(true);
  }

  /** {name: value} of every slider. */
  values() {
    return Object.fromEntries(Object.entries(this.inputs).map(([name, input]) => [name, Number(input.value)]));
  }

  /** abortCurrent: the running request is stale at once (reset), not just older (dragging). */
  moved(abortCurrent) {
    for (const name of Object.keys(this.inputs)) this.showValue(name);
    this.onChange(this.values());
    if (abortCurrent) {
      this.request(true);
      return;
    }
    // One request per frame at most while dragging.
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.request(false);
    });
  }

  setPixels(pixels) {
    this.pixels = pixels;
  }

  request(abortCurrent = true) {
    if (!this.pixels) return;
    const { pixels } = this;
    const transform = this.values();
    this.queue.submit(async (signal) => {
      const answer = await api.compare(pixels, transform, signal);
      if (signal.aborted) return;
      this.render(answer, transform);
    }, { abortCurrent });
  }

  render(answer, transform) {
    renderGray(this.els.input, answer.input);
    showAnswer(this.cards.capsnet, answer.capsnet);
    showAnswer(this.cards.cnn, answer.cnn);
    const changed = Object.entries(transform).filter(([name, v]) => v !== this.transforms[name].default)
      .map(([name, v]) => `${labelOf(name).toLowerCase()} ${formatValue(v, this.transforms[name])}`);
    const { capsnet, cnn } = answer;
    const agree = capsnet.prediction === cnn.prediction
      ? `Both predict ${capsnet.prediction}.`
      : `They disagree: the CapsNet says ${capsnet.prediction}, the CNN ${cnn.prediction}.`;
    this.els.note.textContent = `${changed.length ? `Transformed: ${changed.join(', ')}.` : 'No transform: the input as analysed above.'} ${agree}`;
    this.els.input.setAttribute('aria-label', `What both networks see. ${this.els.note.textContent}`);
  }
}
