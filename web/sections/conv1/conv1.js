// Conv1: the trained kernels (panel 1) and their ReLU maps for the current input (panel 2).
// One filter is "shown": hovering previews it, a click, the keyboard or its number pins it.
import {
  decodeQ, range, renderAtlas, reserveAtlas, renderLegend, hitTest, placeMarker, fmt, atlasColumns,
} from '../../lib/heatmap.js';

// The two atlases: every kernel, every ReLU map, tiles per row and the gaps between them.
const KERNELS = (filters, k) => ({ count: filters, h: k, w: k, cols: atlasColumns(filters), gap: 1 });
const MAPS = (filters, h, w) => ({ count: filters, h, w, cols: atlasColumns(filters), gap: 2 });
import { argmax } from '../../lib/bars.js';

export class Conv1View {
  /**
   * els: {kernels, kernelMarker, kernelLegend, index, big, relu, caption,
   *       maps, mapsMarker, mapsLegend, mapsCaption}
   */
  constructor(els, { onMapsLayout = () => {}, onHoverPixel = () => {}, onShowMap = () => {} } = {}) {
    this.els = els;
    this.onShowMap = onShowMap; // (filter, map, h, w, max): the map of the filter now shown
    this.onMapsLayout = onMapsLayout; // the ReLU atlas was (re)laid out
    this.onHoverPixel = onHoverPixel; // {y, x} of a ReLU map under the pointer, or null
    this.kernels = null; // decoded [filters, k, k]
    this.kernelLimit = 1;
    this.kernelLayout = null;
    this.maps = null; // decoded [filters, h, w]
    this.mapsLayout = null;
    this.pinned = null;
    this.shown = 0;
    renderLegend(els.mapsLegend, 'viridis', ['0', '', '', '', 'max']);

    const { kernels, maps, index } = els;
    kernels.addEventListener('pointermove', (e) => {
      const hit = hitTest(kernels, this.kernelLayout, e);
      if (hit && hit.index !== this.shown) this.show(hit.index);
    });
    kernels.addEventListener('pointerleave', () => {
      if (this.pinned !== null && this.pinned !== this.shown) this.show(this.pinned);
    });
    kernels.addEventListener('click', (e) => this.pinHit(kernels, this.kernelLayout, e));
    // The arrow keys move through either atlas (a tile per filter, the same order in both).
    const onKey = (layout) => (e) => {
      const cols = layout() ? layout().cols : 1;
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
      if (!(e.key in moves)) return;
      e.preventDefault();
      this.pin(this.shown + moves[e.key]);
    };
    kernels.addEventListener('keydown', onKey(() => this.kernelLayout));
    maps.addEventListener('keydown', onKey(() => this.mapsLayout));
    index.addEventListener('input', () => {
      const k = Number(index.value);
      if (Number.isInteger(k) && k >= 0 && k < this.filters) this.pin(k);
    });
    maps.addEventListener('pointermove', (e) => {
      const hit = hitTest(maps, this.mapsLayout, e);
      this.onHoverPixel(hit && { y: hit.y, x: hit.x });
      if (!hit || !this.maps) return;
      const [, h, w] = this.maps.shape;
      const v = this.maps.data[(hit.index * h + hit.y) * w + hit.x];
      els.mapsCaption.textContent = `Map ${hit.index} (made by filter ${hit.index}): value ${fmt(v)} at row ${hit.y}, `
        + `column ${hit.x}. Click to show this filter in panel 1.`;
    });
    maps.addEventListener('pointerleave', () => this.onHoverPixel(null));
    maps.addEventListener('click', (e) => this.pinHit(maps, this.mapsLayout, e));
  }

  /** Size both atlases from the model's geometry before any data arrive. */
  reserve(geo) {
    reserveAtlas(this.els.kernels, KERNELS(geo.conv1.filters, geo.conv1.kernel));
    this.onMapsLayout(reserveAtlas(this.els.maps, MAPS(geo.conv1.filters, ...geo.conv1.map)));
  }

  get filters() {
    return (this.kernels || this.maps || { shape: [0] }).shape[0];
  }

  pinHit(canvas, layout, event) {
    const hit = hitTest(canvas, layout, event);
    if (hit) this.pin(hit.index);
  }

  pin(k) {
    this.pinned = Math.max(0, Math.min(this.filters - 1, k));
    this.show(this.pinned);
  }

  /** q: the quantised kernels from GET /api/conv1/kernels. */
  setKernels(q) {
    this.kernels = decodeQ(q);
    const [filters, kh] = this.kernels.shape;
    const a = Math.max(Math.abs(this.kernels.min), Math.abs(this.kernels.max), 1e-6);
    this.kernelLimit = a;
    this.kernelLayout = renderAtlas(this.els.kernels, this.kernels.data, { ...KERNELS(filters, kh), min: -a, max: a });
    this.els.index.max = String(filters - 1);
    renderLegend(this.els.kernelLegend, 'viridis', [`\u2212${a.toFixed(2)} (negative)`, '0', `+${a.toFixed(2)} (positive)`]);
    this.show(this.pinned ?? this.shown);
  }

  /** q: the analysis' quantised ReLU maps. */
  setMaps(q) {
    this.maps = decodeQ(q);
    const [filters, h, w] = this.maps.shape;
    const max = Math.max(this.maps.max, 1e-6);
    this.mapsLayout = renderAtlas(this.els.maps, this.maps.data, { ...MAPS(filters, h, w), min: 0, max });
    this.onMapsLayout(this.mapsLayout);
    renderLegend(this.els.mapsLegend, 'viridis', [0, 0.25, 0.5, 0.75, 1].map((t) => fmt(t * max)));
    const strongest = this.strongestMap();
    this.els.maps.setAttribute('aria-label', `The ${filters} ReLU maps of ${h}\u00d7${w} for this input, coloured 0 `
      + `to ${fmt(max)}; map ${strongest} has the most activation. The arrow keys choose a map.`);
    if (this.pinned === null) this.shown = strongest;
    this.show(this.pinned ?? this.shown);
  }

  map(k) {
    const size = this.maps.shape[1] * this.maps.shape[2];
    return this.maps.data.subarray(k * size, (k + 1) * size);
  }

  strongestMap() {
    const sums = Array.from({ length: this.maps.shape[0] }, (_, k) => this.map(k).reduce((a, b) => a + b, 0));
    return argmax(sums);
  }

  show(k) {
    const { els } = this;
    this.shown = k;
    els.index.value = String(k);
    placeMarker(els.kernelMarker, this.kernelLayout, k);
    placeMarker(els.mapsMarker, this.mapsLayout, k);
    const parts = [`Filter ${k}`];
    if (this.kernels) {
      const [, kh, kw] = this.kernels.shape;
      const a = this.kernelLimit;
      renderAtlas(els.big, this.kernels.data, { count: 1, h: kh, w: kw, cols: 1, min: -a, max: a, offset: k * kh * kw });
      const r = range(this.kernels.data.subarray(k * kh * kw, (k + 1) * kh * kw));
      parts.push(`weights ${fmt(r.min)} to ${fmt(r.max)}`);
      els.big.setAttribute('aria-label', `Filter ${k}'s ${kh}\u00d7${kw} weights, ${fmt(r.min)} to ${fmt(r.max)}`);
    }
    if (this.maps) {
      const [, h, w] = this.maps.shape;
      const map = this.map(k);
      const r = range(map);
      renderAtlas(els.relu, map, { count: 1, h, w, cols: 1, min: 0, max: Math.max(r.max, 1e-6) });
      this.onShowMap(k, map, h, w, r.max);
      if (r.max <= 1e-6) {
        parts.push('it does not fire anywhere on this input');
      } else {
        const at = argmax(map);
        parts.push(`strongest response ${fmt(r.max)} at row ${Math.floor(at / w)}, column ${at % w} (map scaled to its own maximum)`);
      }
      els.relu.setAttribute('aria-label', `Filter ${k}'s ReLU map for this input: ${parts[parts.length - 1]}`);
    }
    els.caption.textContent = `${parts.join('; ')}.`;
  }
}
