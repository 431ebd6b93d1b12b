// Wires the page together: inputs -> POST /api/analyze -> every view. The views draw; the
// layer sizes they quote come from GET /api/model, the arrays' shapes from the answers.
import * as api from './api.js';
import { renderGray } from './heatmap.js';
import {
  loadModel, geometry, fillModelText, describeModel, fillOptions, span,
} from './model-info.js';
import { StatusLine } from './status.js';
import { InputView } from './input.js';
import { Conv1View } from './conv1.js';
import { PrimaryCapsView } from './primary.js';
import { SquashPlot } from './squash.js';
import { RoutingView } from './routing.js';
import { DigitCapsView } from './digitcaps.js';
import { ReconstructionView } from './sliders.js';
import { ClaimsSection } from './claims.js';

const $ = (id) => document.getElementById(id);
const status = new StatusLine($('status'));
const showError = (err) => status.error(err);

const state = { source: null, iterations: null, analyses: 0 };
let modelReady = null; // resolves once the views are sized by /api/model
const analysisQueue = new api.LatestQueue(showError);

// body[data-busy] is present while a drawing waits to be sent or an analysis runs.
function updateBusy() {
  const busy = input.waiting || Boolean(analysisQueue.pending) || analysisQueue.busy;
  if (busy) document.body.dataset.busy = 'true';
  else document.body.removeAttribute('data-busy');
}

const input = new InputView({
  pad: $('draw'), clear: $('clear'), upload: $('upload'), overlay: $('drop-overlay'), gallery: $('gallery'),
}, {
  onSource: analyse,
  onClear: () => analysisQueue.cancel(),
  onWaiting: updateBusy,
  onStatus: (message, kind) => status.set(message, kind),
  onError: showError,
});

const conv1 = new Conv1View({
  kernels: $('conv1-kernels'), kernelMarker: $('kernel-marker'), kernelLegend: $('kernel-legend'),
  index: $('kernel-index'), big: $('kernel-big'), relu: $('kernel-relu'), caption: $('kernel-caption'),
  maps: $('relu-maps'), mapsMarker: $('relu-marker'), mapsLegend: $('relu-legend'), mapsCaption: $('relu-caption'),
});

const squash = new SquashPlot($('squash-plot'), $('squash-caption'));

const routing = new RoutingView({
  heat: $('routing-heat'),
  marker: $('routing-marker'),
  legend: $('routing-legend'),
  bars: $('routing-bars'),
  step: $('routing-step'),
  prev: $('routing-prev'),
  next: $('routing-next'),
  play: $('routing-play'),
  position: $('routing-position'),
  digit: $('routing-digit'),
  digitName: $('routing-digit-name'),
  summary: $('routing-summary'),
  caption: $('routing-caption'),
  stretch: $('routing-stretch'),
}, { onSelectCapsule: (type, row, col) => primary.select(type, row, col, true) });

const primary = new PrimaryCapsView({
  canvas: $('primary-caps'), marker: $('primary-marker'), legend: $('primary-legend'),
  stretch: $('primary-stretch'), title: $('capsule-title'), vector: $('capsule-vector'),
}, {
  onSelect: ({ type, row, col, index }) => {
    routing.select(type, row, col);
    squash.select(index);
  },
  couplingOf: (type, row, col) => routing.finalCoupling(type, row, col),
});

const digitCaps = new DigitCapsView({ bars: $('digit-caps'), vectors: $('digit-vectors'), rows: $('digit-rows') });

// Built once /api/model has said how many dimensions a digit capsule has, which transforms exist.
let recon = null;
let claims = null;

// ---------------------------------------------------------------- analysis

function analyse(source, { abortCurrent = true } = {}) {
  state.source = source;
  if (recon) recon.cancel();
  analysisQueue.submit(async (signal) => {
    status.set('Analysing\u2026', 'busy');
    const started = performance.now();
    try {
      await modelReady; // a drawing made before /api/model answered waits for it
      const result = await api.analyze(source, state.iterations, signal);
      if (signal.aborted) return;
      render(result);
      const n = result.routing.iterations.length;
      status.set(`Analysed in ${Math.round(performance.now() - started)} ms with ${n} routing iteration${n === 1 ? '' : 's'}.`, 'ok');
    } finally {
      // The queue is still marked running here; only clear busy if nothing else waits.
      if (!analysisQueue.pending && !input.waiting) document.body.removeAttribute('data-busy');
    }
  }, { abortCurrent });
  updateBusy();
}

function render(result) {
  state.analyses += 1;
  renderGray($('seen'), result.input);
  renderGray($('seen-copy'), result.input);
  const prediction = $('prediction');
  prediction.textContent = String(result.prediction);
  prediction.dataset.seq = String(state.analyses);
  $('confidence').textContent = `capsule length ${result.digit_caps.lengths[result.prediction].toFixed(2)}`;

  conv1.setMaps(result.conv1);
  routing.setData(result.routing, result.prediction); // before the capsules: their votes
  squash.setData(result.primary_caps);
  primary.setData(result.primary_caps);
  digitCaps.setData(result.digit_caps, result.prediction);
  recon.setData(result);
  claims.setInput(result.input);
}

$('routing-iterations').addEventListener('change', () => {
  state.iterations = Number($('routing-iterations').value);
  if (state.source) analyse(state.source);
});

// ---------------------------------------------------------------- start-up

/** Everything sized by the model: the prose's numbers, the selects, the sliders. */
function applyGeometry(info) {
  const geo = geometry(info);
  fillModelText(document, geo);
  const digits = span(0, geo.digits - 1);
  fillOptions($('recon-digit'), digits);
  fillOptions($('routing-digit'), digits, (d) => `digit ${d}`);
  fillOptions($('routing-iterations'), span(...geo.iterationsRange));
  state.iterations = geo.iterations;
  $('routing-iterations').value = String(geo.iterations);
  recon = new ReconstructionView({
    canvas: $('reconstruction'),
    sliders: $('sliders'),
    digit: $('recon-digit'),
    reset: $('recon-reset'),
    sweepButton: $('sweep-button'),
    sweep: $('sweep'),
    sweepNote: $('sweep-note'),
    vectorNote: $('vector-note'),
  }, { dims: geo.digitDim, halfRange: geo.sliderHalfRange, onError: showError });
  claims = new ClaimsSection($('claims'), { geometry: geo });
}

async function start() {
  squash.draw();
  modelReady = loadModel().then((info) => {
    $('model-info').textContent = describeModel(info);
    applyGeometry(info);
  });
  try {
    await modelReady;
  } catch (err) {
    $('model-info').textContent = `Model information unavailable: ${err.message}`;
    showError(err);
    return;
  }
  api.getJSON('/api/conv1/kernels').then((answer) => conv1.setKernels(answer.kernels)).catch(showError);
  try {
    await input.loadGallery();
  } catch (err) {
    showError(err);
  }
}

start();
