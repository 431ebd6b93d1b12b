// Primary capsules: the lengths of every capsule type's grid, and one selected capsule's vector.
import {
  decodeQ, fromNested, range, renderAtlas, renderLegend, hitTest, placeMarker, fmt, widen, legendLabels,
  capsuleAtlas, reserveAtlas,
} from '../../lib/heatmap.js';
import { argmax } from '../../lib/bars.js';
import { capsuleAt, capsuleIndex, gridOf } from '../../lib/capsules.js';

/** The keys of every capsule grid: arrows move within a type's grid, Page Up/Down change
 * the type, wrapping around. Returns the capsule moved to, or null for other keys. */
export function moveCapsule(e, { type, row, col }, { types, rows, cols }) {
  const moves = {
    ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], PageUp: [-1, 0, 0], PageDown: [1, 0, 0],
  };
  if (!(e.key in moves)) return null;
  e.preventDefault();
  const [dt, dr, dc] = moves[e.key];
  return { type: (type + dt + types) % types, row: (row + dr + rows) % rows, col: (col + dc + cols) % cols };
}

export class PrimaryCapsView {
  /**
   * els: {canvas, marker, legend, stretch, title, vector}
   * onSelect({type, row, col, index}) follows every selection; couplingOf(type, row, col)
   * gives the capsule's coupling to each digit in the last routing iteration.
   */
  constructor(els, { onSelect, couplingOf, onHover = () => {} }) {
    this.els = els;
    this.onHover = onHover; // {type, row, col} under the pointer, or null
    this.onSelect = onSelect;
    this.couplingOf = couplingOf;
    this.lengths = null; // {shape: [rows, cols, types], data}: the capsules' order (lib/capsules.js)
    this.vectors = null; // decoded [rows, cols, types, dim]
    this.layout = null;
    this.selected = null; // {type, row, col}
    this.picked = false; // the user chose it: keep it for the next input

    els.stretch.addEventListener('change', () => this.render());
    const { canvas } = els;
    canvas.addEventListener('click', (e) => {
      const hit = hitTest(canvas, this.layout, e);
      if (hit) this.select(hit.index, hit.y, hit.x, true);
    });
    canvas.addEventListener('pointermove', (e) => {
      const hit = hitTest(canvas, this.layout, e);
      this.onHover(hit && { type: hit.index, row: hit.y, col: hit.x });
      canvas.title = hit && this.lengths
        ? `Type ${hit.index}, row ${hit.y}, column ${hit.x}: length ${this.lengthAt(hit.index, hit.y, hit.x).toFixed(3)}`
        : '';
    });
    canvas.addEventListener('pointerleave', () => this.onHover(null));
    canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** part: the analysis' primary_caps {lengths, vectors, pre_squash_lengths}. */
  setData(part) {
    this.lengths = fromNested(part.lengths);
    this.vectors = decodeQ(part.vectors);
    this.render();
    if (!this.picked || !this.selected) this.selected = capsuleAt(gridOf(this.lengths.shape), argmax(this.lengths.data));
    const { type, row, col } = this.selected;
    this.select(type, row, col, false);
  }

  /** Size the atlas from the model's geometry before any data arrive. */
  reserve(geo) {
    reserveAtlas(this.els.canvas, capsuleAtlas(geo.primary.types, ...geo.primary.grid));
  }

  /** Move the marker to capsule c ({type, row, col}) without selecting it (a hover elsewhere). */
  mark(c) {
    placeMarker(this.els.marker, this.layout, c.type, c.row, c.col);
  }

  index(type, row, col) {
    return capsuleIndex(gridOf(this.lengths.shape), type, row, col);
  }

  lengthAt(type, row, col) {
    return this.lengths.data[this.index(type, row, col)];
  }

  render() {
    if (!this.lengths) return;
    const [h, w, types] = this.lengths.shape;
    const r = range(this.lengths.data);
    const { min, max } = this.els.stretch.checked ? widen(r.min, r.max) : { min: 0, max: 1 };
    this.layout = renderAtlas(this.els.canvas, this.lengths.data, { ...capsuleAtlas(types, h, w), min, max });
    renderLegend(this.els.legend, 'viridis', legendLabels(min, max));
    const best = capsuleAt(gridOf(this.lengths.shape), argmax(this.lengths.data));
    this.els.canvas.setAttribute('aria-label', `Lengths of this input's ${this.lengths.data.length} primary capsules, one `
      + `${h}\u00d7${w} grid per type, ${fmt(r.min, 3)} to ${fmt(r.max, 3)}; the longest is type ${best.type}, `
      + `row ${best.row}, column ${best.col}. Arrow keys move, Page Up/Down change the type.`);
    if (this.selected) placeMarker(this.els.marker, this.layout, this.selected.type, this.selected.row, this.selected.col);
  }

  onKey(e) {
    if (!this.selected || !this.lengths) return;
    const moved = moveCapsule(e, this.selected, gridOf(this.lengths.shape));
    if (moved) this.select(moved.type, moved.row, moved.col, true);
  }

  select(type, row, col, picked) {
    this.selected = { type, row, col };
    if (picked) this.picked = true;
    placeMarker(this.els.marker, this.layout, type, row, col);
    if (!this.vectors) return;
    const index = this.index(type, row, col);
    const dim = this.vectors.shape[3]; // [rows, cols, types, dim]
    const vector = Array.from(this.vectors.data.subarray(index * dim, (index + 1) * dim));
    const coupling = this.couplingOf(type, row, col);
    const vote = coupling ? argmax(coupling) : null;
    this.els.title.textContent = `Capsule type ${type}, row ${row}, column ${col}: length ${this.lengthAt(type, row, col).toFixed(3)}. `
      + (vote === null ? '' : `It votes for digit ${vote} (coupling ${coupling[vote].toFixed(3)} in the last routing iteration).`);
    this.renderVector(vector);
    this.onSelect({ type, row, col, index });
  }

  renderVector(vector) {
    const a = Math.max(...vector.map(Math.abs), 1e-6);
    this.els.vector.replaceChildren(...vector.map((v, i) => {
      const li = document.createElement('li');
      li.title = `Dimension ${i}: ${v.toFixed(4)}`;
      const num = document.createElement('span');
      num.className = 'num';
      num.textContent = fmt(v, 3);
      const bar = document.createElement('span');
      bar.className = 'mini-bar';
      const fill = document.createElement('span');
      fill.className = v < 0 ? 'mini-fill negative' : 'mini-fill';
      fill.style.width = `${(50 * Math.abs(v)) / a}%`;
      fill.style.left = v < 0 ? `${50 - (50 * Math.abs(v)) / a}%` : '50%';
      bar.append(fill);
      li.append(num, bar);
      return li;
    }));
  }
}
