// Test-set accuracy of both networks under each transform, and on an affNIST-like set:
// GET /api/robustness, measured offline on the MNIST test digits.
import * as api from '../../engine.js';
import {
  COLORS, prepare, axes, series, niceTicks, redrawOnResize,
} from '../../lib/chart.js';
import { fillNumbersTable } from '../../lib/numbers-table.js';
import { labelOf, specOf, formatValue, orderedNames } from './transforms.js';

const percent = (v, digits = 1) => `${(100 * v).toFixed(digits)}%`;
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

export class RobustnessView {
  /** els: {root, chart, summary, table, retry}; transforms: /api/model's table (units). */
  constructor(els, { transforms }) {
    this.els = els;
    this.transforms = transforms;
    this.table = null;
    els.retry.addEventListener('click', () => this.load());
    redrawOnResize(() => this.table && this.draw());
  }

  async load() {
    const { els } = this;
    els.retry.hidden = true;
    els.root.dataset.busy = 'true';
    els.summary.textContent = 'Loading the robustness table\u2026';
    try {
      this.table = await api.get('robustness');
      this.draw();
      this.summarise();
      this.fillTable();
    } catch (err) {
      // 503 until the table is computed: the server's message says how.
      els.summary.textContent = err.message;
      els.summary.classList.add('error');
      els.retry.hidden = false;
    } finally {
      els.root.removeAttribute('data-busy');
    }
  }

  draw() {
    const canvas = this.els.chart;
    const names = orderedNames(this.table.transforms);
    canvas.hidden = false;
    const W = canvas.clientWidth || 560;
    const cols = W >= 560 ? 2 : 1;
    const rows = Math.ceil(names.length / cols);
    const h = Math.round(Math.min(260, Math.max(200, (W / cols) * 0.62)));
    const { ctx } = prepare(canvas, (rows * h) / W);
    // One accuracy scale for every panel, so panels compare at a glance.
    const all = names.flatMap((n) => [...this.table.transforms[n].capsnet, ...this.table.transforms[n].cnn]);
    const low = Math.max(0, Math.floor(Math.min(...all) * 10) / 10);
    names.forEach((name, i) => {
      const { values, capsnet, cnn } = this.table.transforms[name];
      const spec = specOf(this.transforms, name);
      const box = { x: (i % cols) * (W / cols), y: Math.floor(i / cols) * h, w: W / cols, h };
      const frame = axes(ctx, box, {
        title: labelOf(name),
        x: { min: values[0], max: values[values.length - 1], label: `${labelOf(name)} (${spec ? spec.unit : ''})`, ticks: niceTicks(values[0], values[values.length - 1], 4) },
        y: { min: low, max: 1, label: 'test accuracy', format: (v) => `${Math.round(100 * v)}%` },
        legend: [{ label: 'CapsNet', color: COLORS.capsnet }, { label: 'CNN', color: COLORS.cnn, dash: [6, 4] }],
      });
      series(ctx, frame, values, capsnet, { color: COLORS.capsnet, width: 2, dots: true });
      series(ctx, frame, values, cnn, { color: COLORS.cnn, width: 2, dash: [6, 4], dots: true });
    });
  }

  /** Which network did better, transform by transform, as the numbers say. */
  summarise() {
    const { transforms, affnist_like: affine, images } = this.table;
    const compare = (a, b) => (Math.abs(a - b) < 0.0005 ? 'about the same' : (a > b ? 'the CapsNet higher' : 'the CNN higher'));
    const parts = orderedNames(transforms).map((name) => {
      const t = transforms[name];
      const c = mean(t.capsnet);
      const n = mean(t.cnn);
      return `${labelOf(name).toLowerCase()}: CapsNet ${percent(c)}, CNN ${percent(n)} (${compare(c, n)})`;
    });
    const { summary } = this.els;
    summary.classList.remove('error');
    summary.textContent = `Mean accuracy over the values tried, on ${images.toLocaleString('en')} test digits: ${parts.join('; ')}. `
      + `On the affNIST-like set (${affine.description}): CapsNet ${percent(affine.capsnet, 2)}, CNN ${percent(affine.cnn, 2)} (${compare(affine.capsnet, affine.cnn)}).`;
    this.els.chart.setAttribute('aria-label', `Robustness chart: test accuracy against each transform for both networks. ${summary.textContent}`);
  }

  /** Every number of the chart, in a table (also for screen readers). */
  fillTable() {
    const rows = [['transform', 'value', 'CapsNet', 'CNN']];
    for (const name of orderedNames(this.table.transforms)) {
      const t = this.table.transforms[name];
      const spec = specOf(this.transforms, name);
      t.values.forEach((v, i) => rows.push([labelOf(name), spec ? formatValue(v, spec, 2) : String(v), percent(t.capsnet[i], 2), percent(t.cnn[i], 2)]));
    }
    const { affnist_like: affine } = this.table;
    rows.push(['affNIST-like', '', percent(affine.capsnet, 2), percent(affine.cnn, 2)]);
    fillNumbersTable(this.els.table, rows);
  }
}
