// Wires the page together: inputs -> POST /api/analyze -> every view (walkthrough.js), and the
// page's state in its URL (urlstate.js). The layer sizes the views quote come from
// GET /api/model, the arrays' shapes from the answers.
import * as api from './engine.js';
import { renderGray } from './lib/heatmap.js';
import {
  loadModel, geometry, fillModelText, describeModel, fillOptions, span,
} from './lib/model-info.js';
import { StatusLine } from './lib/status.js';
import { answerElements, inputElements, mistakesElements } from './sections/input/elements.js';
import { InputView } from './sections/input/input.js';
import { MistakesGallery } from './sections/input/mistakes.js';
import { routingElements } from './sections/routing/elements.js';
import { Walkthrough } from './walkthrough.js';
import { UrlState } from './lib/urlstate.js';
import { TableOfContents } from './lib/toc.js';
import { MultiSection } from './sections/multi/multi.js';
import { LatestQueue } from './lib/queue.js';

const $ = (id) => document.getElementById(id); // index.html's own: the contents, the header
const answer = answerElements();
const iterationsChoice = routingElements().iterations; // the routing section's select decides every analysis
const status = new StatusLine(answer.status);
const showError = (err) => status.error(err);

// view: a link's choices still to apply once its input has been analysed.
const state = {
  source: null, iterations: null, analyses: 0, view: null,
};
let urlState = null; // made once /api/model has given the input's shape
let walkthrough = null; // the stages' views: built once the page has painted
const analysisQueue = new LatestQueue(showError);

// body[data-busy] is present while a drawing waits to be sent or an analysis runs.
function updateBusy() {
  const busy = input.waiting || Boolean(analysisQueue.pending) || analysisQueue.busy;
  if (busy) document.body.dataset.busy = 'true';
  else document.body.removeAttribute('data-busy');
}

const input = new InputView(inputElements(), {
  onSource: analyse,
  onClear: () => analysisQueue.cancel(),
  onWaiting: updateBusy,
  onStatus: (message, kind) => status.set(message, kind),
  onError: showError,
});

const mistakes = new MistakesGallery(mistakesElements(), {
  onPick: (entry, button) => input.pickImage(entry.image, button, { mistake: entry }),
});


// ---------------------------------------------------------------- analysis

function analyse(source, { abortCurrent = true } = {}) {
  state.source = source;
  if (source.fresh) status.clear(); // the reader moved on: the last error or notice is old
  if (walkthrough) walkthrough.cancel();
  analysisQueue.submit(async (signal) => {
    status.set('Analysing\u2026', 'busy');
    const started = performance.now();
    try {
      await modelReady; // a drawing made before /api/model answered waits for it
      const result = await api.analyze(source, state.iterations, signal);
      if (signal.aborted) return;
      render(result, source);
      const n = result.routing.iterations.length;
      status.set(`Analysed in ${Math.round(performance.now() - started)} ms with ${n} routing iteration${n === 1 ? '' : 's'}.`, 'ok');
    } finally {
      // The queue is still marked running here; only clear busy if nothing else waits.
      if (!analysisQueue.pending && !input.waiting) document.body.removeAttribute('data-busy');
    }
  }, { abortCurrent });
  updateBusy();
}

function render(result, source) {
  state.analyses += 1;
  renderGray(answer.seen, result.input);
  answer.prediction.textContent = String(result.prediction);
  answer.prediction.dataset.seq = String(state.analyses);
  const length = result.digit_caps.lengths[result.prediction].toFixed(2);
  answer.confidence.textContent = `capsule length ${length}`;
  // Said once per analysis (the views that change under the pointer are not live regions).
  answer.announce.textContent = `The network reads your digit as ${result.prediction} (capsule length ${length}).`;
  answer.seen.setAttribute('aria-label', `The ${result.input.length}\u00d7${result.input[0].length} input the network saw, read as ${result.prediction}`);
  const { view } = state;
  state.view = null;
  walkthrough.render(result, view, source);
  if (!view) urlState.write({ pixels: result.input, iterations: state.iterations }, { push: Boolean(source.fresh) });
}

/** A link's view (on load, or back/forward): its input, then its choices once analysed. */
function restore(view) {
  state.view = view;
  if (Number.isInteger(view.iterations)) {
    state.iterations = view.iterations;
    iterationsChoice.value = String(view.iterations);
  }
  input.usePixels(view.pixels);
}

iterationsChoice.addEventListener('change', () => {
  state.iterations = Number(iterationsChoice.value);
  urlState.write({ iterations: state.iterations });
  if (state.source) analyse({ ...state.source, fresh: false });
});

// ---------------------------------------------------------------- start-up

/** Everything sized by the model: the prose's numbers, the selects, the sliders, the URL. */
function applyGeometry(info) {
  const geo = geometry(info);
  fillModelText(document, geo);
  new TableOfContents($('toc')); // after the headings quote the model's sizes
  fillOptions(iterationsChoice, span(...geo.iterationsRange));
  state.iterations = geo.iterations;
  iterationsChoice.value = String(geo.iterations);
  walkthrough.setGeometry(geo);
  // Two digits at once (MultiMNIST): asks its own model only once it is near the screen.
  new MultiSection({
    digitSize: geo.input[0], halfRange: geo.sliderHalfRange, iterationsRange: geo.iterationsRange, iterations: geo.iterations,
  });
  urlState = new UrlState({
    shape: geo.input,
    onRestore: restore,
    onNotice: (text) => status.notify(text),
    copy: answer.copy,
    onCopied: (text, ok) => status.set(text, ok ? 'ok' : 'info'),
  });
}

// The first paint never waits for the views: /api/model is asked for at once, the views are
// built after the first frame is on screen (rAF, then a task), and sized by the answer.
const painted = new Promise((resolve) => { requestAnimationFrame(() => setTimeout(resolve, 0)); });
const modelReady = Promise.all([loadModel(), painted]).then(([info]) => {
  walkthrough = new Walkthrough({
    onError: showError,
    onChange: (changes) => urlState.write(changes),
  });
  $('model-info').textContent = describeModel(info);
  applyGeometry(info);
});

async function start() {
  try {
    await modelReady;
  } catch (err) {
    $('model-info').textContent = `Model information unavailable: ${err.message}`;
    showError(err);
    return;
  }
  api.get('conv1_kernels').then((answer) => walkthrough.conv1.setKernels(answer.kernels)).catch(showError);
  const view = await urlState.read();
  if (view) restore(view);
  try {
    await input.loadGallery({ analyseFirst: !view });
  } catch (err) {
    showError(err);
  }
  // After the first input is on its way: its picture does not queue behind these.
  mistakes.load().then((buttons) => input.addButtons(buttons)).catch(showError);
}

start();
