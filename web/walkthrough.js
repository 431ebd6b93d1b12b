// The walk-through: the views of every stage, built once, fed each analysis, and kept in step:
// one primary capsule and one digit capsule are selected at a time, whichever view chose them.
import { renderGray } from './lib/heatmap.js';
import { fillOptions, span, primaryGrid } from './lib/model-info.js';
import { capsuleAt, capsuleIndex } from './lib/capsules.js';
import { WhenVisible } from './lib/lazy.js';
import { ReceptiveFields } from './lib/fields.js';
import { inputFields } from './sections/input/elements.js';
import { conv1Elements, conv1Fields, slideElements } from './sections/conv1/elements.js';
import { Conv1View } from './sections/conv1/conv1.js';
import { ConvSlide } from './sections/conv1/conv-slide.js';
import { primaryElements } from './sections/primary/elements.js';
import { PrimaryCapsView } from './sections/primary/primary.js';
import { squashElements } from './sections/squash/elements.js';
import { SquashPlot } from './sections/squash/squash.js';
import { routingElements } from './sections/routing/elements.js';
import { RoutingView } from './sections/routing/routing.js';
import { votesElements } from './sections/votes/elements.js';
import { VotesView } from './sections/votes/votes.js';
import { mathElements } from './sections/math/elements.js';
import { MathPanel } from './sections/math/math.js';
import { digitCapsElements } from './sections/digitcaps/elements.js';
import { DigitCapsView } from './sections/digitcaps/digitcaps.js';
import { dimensionElements, mistakePairElements, reconElements } from './sections/recon/elements.js';
import { ReconstructionView } from './sections/recon/sliders.js';
import { DimensionLabels } from './sections/recon/dimensions.js';
import { MistakePair } from './sections/recon/mistake-pair.js';
import { ClaimsSection } from './sections/claims/claims.js';

// Each section draws when it comes into view (or the browser is idle): its section ids.
const PARTS = {
  conv1: ['conv1', 'relu'], capsules: ['primary', 'squash', 'routing', 'votes'], digitCaps: ['digitcaps'], recon: ['recon'],
};

export class Walkthrough {
  /**
   * onError(err); onChange(changes) reports the reader's choices the URL keeps:
   * {digit} (null: the prediction), {sliders} (null: unmoved), {transform}.
   */
  constructor({ onError, onChange }) {
    this.onError = onError;
    this.onChange = onChange;
    this.geo = null;
    this.result = null;
    this.digit = null; // the digit capsule the reader chose; null: follow the prediction
    this.capsule = null; // the primary capsule selected {type, row, col}

    this.fields = new ReceptiveFields({ ...inputFields(), ...conv1Fields() });
    const hover = (c) => this.hoverCapsule(c);
    this.slide = new ConvSlide(slideElements());
    this.conv1 = new Conv1View(conv1Elements(), {
      onMapsLayout: (layout) => this.fields.setMapsLayout(layout),
      onHoverPixel: (pixel) => this.fields.showMapPixel(pixel),
      onShowMap: (...map) => this.slide.setMap(...map),
    });
    const squash = squashElements();
    this.squash = new SquashPlot(squash.plot, squash.caption);
    this.routingEls = routingElements();
    this.routing = new RoutingView(this.routingEls, {
      onSelectCapsule: (type, row, col) => this.primary.select(type, row, col, true),
      onShow: (digit, iteration) => this.votes.show(digit, iteration),
      onHover: hover,
      onSelectDigit: (d) => this.chooseDigit(d),
    });
    this.primary = new PrimaryCapsView(primaryElements(), {
      onSelect: ({
        type, row, col, index,
      }) => {
        this.capsule = { type, row, col };
        this.updateMath();
        this.routing.select(type, row, col);
        this.squash.select(index);
        this.hoverCapsule(null);
      },
      couplingOf: (type, row, col) => this.routing.finalCoupling(type, row, col),
      onHover: hover,
    });
    this.digitCaps = new DigitCapsView(digitCapsElements(), { onSelect: (d) => this.chooseDigit(d) });
    this.votes = new VotesView(votesElements(), {
      onError,
      onSelectCapsule: (i) => {
        const { type, row, col } = capsuleAt(primaryGrid(this.geo), i);
        this.primary.select(type, row, col, true);
      },
      onHover: (i) => hover(i === null ? null : capsuleAt(primaryGrid(this.geo), i)),
    });
    this.math = new MathPanel(mathElements(), { onError });
    this.mistakePair = new MistakePair(mistakePairElements(), { onError });
    this.routingEls.digit.addEventListener('change', () => {
      const { value } = this.routingEls.digit;
      this.chooseDigit(value === 'auto' ? null : Number(value));
    });
    this.reconEls = reconElements();
    this.reconEls.digit.addEventListener('change', () => this.chooseDigit(Number(this.reconEls.digit.value)));
    this.squash.draw();
    this.parts = Object.fromEntries(Object.entries(PARTS).map(
      ([part, ids]) => [part, new WhenVisible(ids.map((id) => document.getElementById(id)))],
    ));
  }

  /** Everything sized by the model (model-info.js' geometry()): the selects, the sliders. */
  setGeometry(geo) {
    this.geo = geo;
    this.fields.setGeometry(geo);
    this.slide.setGeometry(geo);
    const digits = span(0, geo.digits - 1);
    fillOptions(this.reconEls.digit, digits);
    fillOptions(this.routingEls.digit, digits, (d) => `digit ${d}`);
    for (const view of [this.conv1, this.primary, this.routing, this.digitCaps, this.votes]) view.reserve(geo);
    this.recon = new ReconstructionView(this.reconEls, {
      dims: geo.digitDim,
      halfRange: geo.sliderHalfRange,
      onError: this.onError,
      onDigit: (digit) => this.dimensions.show(digit),
      onChange: (digit, sliders) => this.onChange({ sliders }),
    });
    this.dimensions = new DimensionLabels(dimensionElements(), { labels: () => this.recon.labels });
    this.claims = new ClaimsSection({
      geometry: geo,
      onTransform: (transform) => this.onChange({ transform }),
    });
  }

  /** One analysis (/api/analyze) to every view; view: a link's choices to apply to it; source:
   * where the input came from (a mistake of the network's is redrawn as both digits). */
  render(result, view = null, source = null) {
    this.result = result;
    if (view) this.digit = Number.isInteger(view.digit) ? view.digit : null;
    this.parts.conv1.run(() => {
      this.slide.setInput(result.input);
      this.conv1.setMaps(result.conv1);
    });
    this.parts.capsules.run(() => {
      this.routing.setData(result.routing, result.prediction); // before the capsules: their votes
      this.squash.setData(result.primary_caps);
      this.primary.setData(result.primary_caps);
      this.routing.setDigit(this.digit);
      this.votes.setInput(result.input, result.routing.iterations.length, result.digit_caps.lengths.length);
    });
    this.parts.digitCaps.run(() => {
      this.digitCaps.setData(result.digit_caps, result.prediction);
      this.digitCaps.choose(this.digit ?? result.prediction);
    });
    this.parts.recon.run(() => {
      renderGray(this.reconEls.seenCopy, result.input);
      this.recon.setData(result, this.digit); // the digit chosen by the time it draws
      if (view && view.sliders) this.recon.applyValues(view.sliders);
    });
    this.mistakePair.show(result, source);
    this.claims.setInput(result.input);
    if (view && view.transform) this.claims.transform.setValues(view.transform);
  }

  /** The reader chose digit capsule d (null: the prediction) in any view: every view follows. */
  chooseDigit(d) {
    this.digit = d;
    this.routing.setDigit(d);
    this.updateMath();
    if (this.result) this.digitCaps.choose(d ?? this.result.prediction);
    // A reconstruction still waiting to draw will decode this digit when it does.
    if (this.result && !this.parts.recon.waiting) this.recon.selectDigit(d ?? this.result.prediction);
    this.onChange({ digit: d, sliders: null });
  }

  /** The math panel follows the selected primary capsule i and digit capsule j. */
  updateMath() {
    const { result, capsule: c } = this;
    if (!result || !c || !this.geo) return;
    this.math.show({
      pixels: result.input,
      iterations: result.routing.iterations.length,
      capsule: capsuleIndex(primaryGrid(this.geo), c.type, c.row, c.col),
      digit: this.digit ?? result.prediction,
      where: c,
    });
  }

  /** Show primary capsule c ({type, row, col}) in every view that shows capsules, and its
   * receptive field, while the pointer is on it; null: back to the selected capsule. */
  hoverCapsule(c) {
    const shown = c || this.capsule;
    if (!shown || !this.geo) return;
    this.fields.showCapsule(shown);
    this.primary.mark(shown);
    this.routing.mark(shown);
    this.votes.select(capsuleIndex(primaryGrid(this.geo), shown.type, shown.row, shown.col));
  }

  /** A new input is on its way: drop requests for the old one. */
  cancel() {
    if (this.recon) this.recon.cancel();
  }
}
