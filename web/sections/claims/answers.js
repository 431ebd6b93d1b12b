// One network's answer to one input: its prediction, how sure it is, and all ten scores.
// The same card shows the CapsNet (capsule lengths) and the CNN (softmax probabilities).
import { renderBars } from '../../lib/bars.js';

export const MODELS = {
  capsnet: { name: 'CapsNet', measure: 'capsule length', scores: (a) => a.lengths },
  cnn: { name: 'CNN', measure: 'probability', scores: (a) => a.probabilities },
};

/** An empty card inside `container` (which keeps its data-testid) for model `id`. */
export function answerCard(container, id) {
  const head = document.createElement('p');
  head.className = 'answer-head';
  const name = document.createElement('span');
  name.className = 'answer-model';
  name.textContent = MODELS[id].name;
  const digit = document.createElement('output');
  digit.setAttribute('aria-live', 'off'); // an <output> is a live region: not while dragging
  digit.className = 'answer-digit';
  digit.textContent = '\u2013';
  const confidence = document.createElement('span');
  confidence.className = 'answer-confidence';
  head.append(name, ' predicts ', digit, confidence);
  const bars = document.createElement('div');
  bars.className = 'bars bars-small';
  // A list of labelled bars, as renderBars makes it (its bars are not buttons here), from the
  // start: a card not yet filled (the misplaced parts' before a button is pressed) is an
  // empty list, not a plain div with a label.
  bars.setAttribute('role', 'list');
  bars.setAttribute('aria-label', `${MODELS[id].name}: ${MODELS[id].measure} of each digit`);
  container.classList.add('answer', `answer-${id}`);
  container.replaceChildren(head, bars);
  return { id, container, digit, confidence, bars };
}

/**
 * Fill a card from the model's part of a /api/compare answer. `reference`: a digit whose
 * score to quote as well (e.g. what the untransformed input was predicted as).
 */
export function showAnswer(card, answer, reference = null) {
  const model = MODELS[card.id];
  const scores = model.scores(answer);
  const { prediction } = answer;
  card.digit.textContent = String(prediction);
  card.container.dataset.prediction = String(prediction);
  let text = ` (${model.measure} ${scores[prediction].toFixed(3)})`;
  if (reference !== null && reference !== prediction) {
    text += `; ${model.measure} of ${reference}: ${scores[reference].toFixed(3)}`;
  }
  card.confidence.textContent = text;
  renderBars(card.bars, scores, { winner: prediction, title: model.measure });
}
