// The walk-through: the views of every stage, built once, fed each analysis, and kept in step:
// one primary capsule and one digit capsule are selected at a time, whichever view chose them.
import { renderGray } from './lib/heatmap.js';
import { fillOptions, span, capsuleIndex, capsuleAt } from './lib/model-info.js';
import { Conv1View } from './sections/conv1/conv1.js';
import { PrimaryCapsView } from './sections/primary/primary.js';
import { SquashPlot } from './sections/squash/squash.js';
import { RoutingView } from './sections/routing/routing.js';
import { DigitCapsView } from './sections/digitcaps/digitcaps.js';
import { ReconstructionView } from './sections/recon/sliders.js';
import { ClaimsSection } from './sections/claims/claims.js';
import { VotesView } from './sections/votes/votes.js';
import { DimensionLabels } from './sections/recon/dimensions.js';
import { WhenVisible } from './lib/lazy.js';
import { ReceptiveFields } from './lib/fields.js';
import { MathPanel } from './sections/math/math.js';
import { ConvSlide } from './sections/conv1/conv-slide.js';

const $ = (id) => document.getElementById(id);

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

    this.fields = new ReceptiveFields({
      capsuleOutline: $('receptive-field'), patchOutline: $('input-patch'), mapOutline: $('map-field'),
      mapsOverlay: $('relu-fields'),
    });
    const hover = (c) => this.hoverCapsule(c);
    this.slide = new ConvSlide({
      input: $('slide-input'), window: $('slide-window'), map: $('slide-map'), play: $('slide-play'),
      position: $('slide-position'),
    });
    this.conv1 = new Conv1View({
      kernels: $('conv1-kernels'), kernelMarker: $('kernel-marker'), kernelLegend: $('kernel-legend'),
      index: $('kernel-index'), big: $('kernel-big'), relu: $('kernel-relu'), caption: $('kernel-caption'),
      maps: $('relu-maps'), mapsMarker: $('relu-marker'), mapsLegend: $('relu-legend'), mapsCaption: $('relu-caption'),
    }, {
      onMapsLayout: (layout) => this.fields.setMapsLayout(layout),
      onHoverPixel: (pixel) => this.fields.showMapPixel(pixel),
      onShowMap: (...map) => this.slide.setMap(...map),
    });
    this.squash = new SquashPlot($('squash-plot'), $('squash-caption'));
    this.routing = new RoutingView({
      heat: $('routing-heat'), marker: $('routing-marker'), legend: $('routing-legend'), bars: $('routing-bars'),
      step: $('routing-step'), prev: $('routing-prev'), next: $('routing-next'), play: $('routing-play'),
      position: $('routing-position'), digit: $('routing-digit'), digitName: $('routing-digit-name'),
      summary: $('routing-summary'), caption: $('routing-caption'), stretch: $('routing-stretch'),
    }, {
      onSelectCapsule: (type, row, col) => this.primary.select(type, row, col, true),
      onShow: (digit, iteration) => this.votes.show(digit, iteration),
      onHover: hover,
      onSelectDigit: (d) => this.chooseDigit(d),
    });
    this.primary = new PrimaryCapsView({
      canvas: $('primary-caps'), marker: $('primary-marker'), legend: $('primary-legend'),
      stretch: $('primary-stretch'), title: $('capsule-title'), vector: $('capsule-vector'),
    }, {
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
    this.digitCaps = new DigitCapsView({
      bars: $('digit-caps'), vectors: $('digit-vectors'), rows: $('digit-rows'), rowMarker: $('digit-row-marker'),
    }, { onSelect: (d) => this.chooseDigit(d) });
    this.votes = new VotesView({
      section: $('votes'), plot: $('votes-plot'), projection: $('votes-projection'), agreement: $('agreement'),
      caption: $('votes-caption'), evidenceInput: $('evidence-input'), evidenceOverlay: $('evidence-overlay'),
      evidenceToggle: $('evidence-toggle'), evidenceNote: $('evidence-note'),
    }, {
      onError,
      onSelectCapsule: (i) => {
        const { type, row, col } = capsuleAt(this.geo, i);
        this.primary.select(type, row, col, true);
      },
      onHover: (i) => hover(i === null ? null : capsuleAt(this.geo, i)),
    });
    this.math = new MathPanel({ section: $('math'), body: $('math-body'), caption: $('math-caption') }, { onError });
    $('routing-digit').addEventListener('change', () => {
      const value = $('routing-digit').value;
      this.chooseDigit(value === 'auto' ? null : Number(value));
    });
    $('recon-digit').addEventListener('change', () => this.chooseDigit(Number($('recon-digit').value)));
    this.squash.draw();
    // Each part draws when its sections come into view (or the browser is idle).
    const near = (...ids) => new WhenVisible(ids.map($));
    this.parts = {
      conv1: near('conv1', 'relu'),
      capsules: near('primary', 'squash', 'routing', 'votes'),
      digitCaps: near('digitcaps'),
      recon: near('recon'),
    };
  }

  /** Everything sized by the model (model-info.js' geometry()): the selects, the sliders. */
  setGeometry(geo) {
    this.geo = geo;
    this.fields.setGeometry(geo);
    this.slide.setGeometry(geo);
    const digits = span(0, geo.digits - 1);
    fillOptions($('recon-digit'), digits);
    fillOptions($('routing-digit'), digits, (d) => `digit ${d}`);
    for (const view of [this.conv1, this.primary, this.routing, this.digitCaps, this.votes]) view.reserve(geo);
    this.recon = new ReconstructionView({
      canvas: $('reconstruction'), sliders: $('sliders'), digit: $('recon-digit'), reset: $('recon-reset'),
      sweepButton: $('sweep-button'), sweep: $('sweep'), sweepNote: $('sweep-note'), vectorNote: $('vector-note'),
    }, {
      dims: geo.digitDim,
      halfRange: geo.sliderHalfRange,
      onError: this.onError,
      onDigit: (digit) => this.dimensions.show(digit),
      onChange: (digit, sliders) => this.onChange({ sliders }),
    });
    this.dimensions = new DimensionLabels({
      table: $('dimension-table'), method: $('dimension-method'), note: $('dimension-note'),
    }, { labels: () => this.recon.labels });
    this.claims = new ClaimsSection($('claims'), {
      geometry: geo,
      onTransform: (transform) => this.onChange({ transform }),
    });
  }

  /** One analysis (/api/analyze) to every view; view: a link's choices to apply to it. */
  render(result, view = null) {
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
      renderGray($('seen-copy'), result.input);
      this.recon.setData(result, this.digit); // the digit chosen by the time it draws
      if (view && view.sliders) this.recon.applyValues(view.sliders);
    });
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
      capsule: capsuleIndex(this.geo, c.type, c.row, c.col),
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
    this.votes.select(capsuleIndex(this.geo, shown.type, shown.row, shown.col));
  }

  /** A new input is on its way: drop requests for the old one. */
  cancel() {
    if (this.recon) this.recon.cancel();
  }
}
