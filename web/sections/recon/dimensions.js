// What each of a digit capsule's dimensions does (GET /api/dimensions, measured offline by
// `python -m studies.dimensions`): the sliders' labels, their tooltips, and the numbers behind
// them in a table beside the sliders.
import * as api from '../../engine.js';
import { fmt } from '../../lib/heatmap.js';

export class DimensionLabels {
  /** els: {table, method, note}; labels(): the sliders' <label>s, one per dimension. */
  constructor(els, { labels }) {
    this.els = els;
    this.labels = labels;
    this.table = null;
    this.loading = null;
    this.digit = null;
  }

  load() {
    if (!this.loading) {
      this.loading = api.get('dimensions').then((table) => {
        this.table = table;
        const props = Object.entries(table.properties).map(([name, text]) => `${name}: ${text}`).join('; ');
        this.els.method.textContent = `${table.method} Each dimension moved by \u00b1${table.perturbation}; `
          + `labelled when |r| \u2265 ${table.threshold}. Properties: ${props}.`;
      }).catch((err) => {
        this.els.note.textContent = `The dimensions' labels are unavailable: ${err.message}`;
      });
    }
    return this.loading;
  }

  /** Label the sliders for digit capsule `digit`. */
  async show(digit) {
    this.digit = digit;
    await this.load();
    if (!this.table || digit !== this.digit) return;
    const entries = this.table.classes[String(digit)].dimensions;
    const props = Object.keys(this.table.properties);
    this.labels().forEach((label, d) => {
      const entry = entries.find((e) => e.dimension === d);
      if (!entry) return;
      label.textContent = `dim ${d}: ${entry.text}`;
      label.title = [`Dimension ${d} of digit capsule ${digit}: ${entry.text}`, ...props.map((p) => `${p}: r = `
        + `${fmt(entry.correlations[p], 2)} with the input, effect ${fmt(entry.effects[p], 2)} sd over \u00b1${this.table.perturbation}`)]
        .join('\n');
    });
    const head = document.createElement('tr');
    head.append(...['dim', 'label', ...props.map((p) => `${p} r / effect`)].map((text) => {
      const th = document.createElement('th');
      th.textContent = text;
      return th;
    }));
    const rows = entries.map((entry) => {
      const tr = document.createElement('tr');
      tr.dataset.dimension = String(entry.dimension);
      const cells = [String(entry.dimension), entry.text,
        ...props.map((p) => `${fmt(entry.correlations[p], 2)} / ${fmt(entry.effects[p], 2)}`)];
      tr.append(...cells.map((text, k) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (k > 1 && props[k - 2] === entry.label) td.className = 'best';
        return td;
      }));
      return tr;
    });
    const caption = document.createElement('caption');
    caption.textContent = `Digit capsule ${digit}, measured on ${this.table.classes[String(digit)].test_digits} test digits`;
    this.els.table.replaceChildren(caption, head, ...rows);
  }
}
