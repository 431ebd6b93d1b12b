// How far routing moves the votes over the whole test set (GET /api/routing-share, measured
// offline by studies/routing_share.py): the share of the votes reaching the true digits after
// each iteration, against the even split routing starts from, and the accuracy there.
import * as api from '../../engine.js';
import { fillNumbersTable } from '../../lib/numbers-table.js';

const percent = (v, digits) => `${(100 * v).toFixed(digits)}%`;
const NAMES = { capsnet: 'the CapsNet', multimnist: 'the two-digit CapsNet' };

export class RoutingShareView {
  /** els: {root, summary, table}. */
  constructor(els) {
    this.els = els;
  }

  async load() {
    const { els } = this;
    els.root.dataset.busy = 'true';
    try {
      const table = await api.get('routing_share');
      this.summarise(table);
      this.fill(table);
    } catch (err) {
      els.summary.textContent = err.message;
      els.summary.classList.add('error');
    } finally {
      delete els.root.dataset.busy;
    }
  }

  summarise({ by_model: byModel }) {
    const parts = Object.entries(byModel).map(([id, m]) => {
      const last = m.share_to_true.length - 1;
      const unit = m.true_digits === 1 ? 'test digits' : 'test pairs';
      const moved = 100 * (m.share_to_true[last] - m.share_to_true[0]);
      return `for ${NAMES[id] || id} (${m.examples.toLocaleString('en')} ${unit}), from ${percent(m.share_to_true[0], 3)} `
        + `to ${percent(m.share_to_true[last], 3)} after ${last + 1} iterations, ${moved >= 0 ? '+' : ''}${moved.toFixed(3)} `
        + `percentage points (an even split gives ${percent(m.uniform, 0)}), `
        + `with ${percent(m.accuracy[0], 2)} accuracy after one iteration and ${percent(m.accuracy[last], 2)} after ${last + 1}`;
    });
    this.els.summary.textContent = `The votes reaching the true digits: ${parts.join('; ')}.`;
  }

  fill({ by_model: byModel }) {
    const rows = [['network', 'iteration', 'votes to the true digits', 'accuracy']];
    for (const [id, m] of Object.entries(byModel)) {
      m.share_to_true.forEach((share, k) => rows.push([NAMES[id] || id, String(k + 1), percent(share, 3), percent(m.accuracy[k], 2)]));
    }
    fillNumbersTable(this.els.table, rows);
  }
}
