// "How is this computed?": the paper's equations for the selected primary capsule i and digit
// capsule j, with the numbers the network computed for the current input (POST
// /api/capsule-math): squash, the prediction u_hat_{j|i} = W_ij u_i, every routing iteration
// (b_ij, the softmax that makes c_ij, s_j, v_j, the agreement added to b_ij) and the margin
// loss. Every number is the server's; the page only lays them out.
import * as api from '../../engine.js';
import { fmt } from '../../lib/heatmap.js';
import { BusyQueue } from '../../lib/queue.js';

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'className') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
};
/** One number, 4 decimals, with the full value on hover; testid lets the tests read it. */
const num = (v, testid = null) => el('span', { className: 'num', title: String(v), ...(testid ? { testid } : {}) }, fmt(v, 4));
const vec = (values, digits = 3) => el('span', { className: 'math-vector', title: values.join(', ') },
  `(${values.map((v) => fmt(v, digits)).join(', ')})`);
const line = (...parts) => el('p', { className: 'math-line' }, ...parts);
const sub = (base, index) => el('span', {}, base, el('sub', {}, index));

export class MathPanel {
  /** els: {section, body, caption}; onError(err). */
  constructor(els, { onError }) {
    this.els = els;
    this.queue = new BusyQueue(els.section, onError);
    this.visible = false;
    this.wanted = null; // {pixels, iterations, capsule, digit, where}
    this.shown = null;
    new IntersectionObserver((entries) => {
      this.visible = entries[entries.length - 1].isIntersecting;
      if (this.visible) this.request();
    }, { rootMargin: '300px' }).observe(els.section);
  }

  /** What to explain: the input, its routing iterations, capsule i (the model's order) and j.
   * where: how to name capsule i ({type, row, col}). */
  show(wanted) {
    this.wanted = wanted;
    this.request();
  }

  request() {
    const w = this.wanted;
    if (!this.visible || !w || w === this.shown) return;
    this.shown = w;
    this.queue.submit(async (signal) => {
      const answer = await api.capsuleMath(w.pixels, w.capsule, w.digit, w.iterations, signal);
      if (signal.aborted) return;
      this.render(answer, w.where);
    }, { abortCurrent: true });
  }

  render(a, where) {
    const i = `i = ${a.capsule}`;
    const j = String(a.digit);
    this.els.caption.textContent = `Primary capsule ${i} (type ${where.type}, row ${where.row}, column ${where.col}) `
      + `and digit capsule j = ${j}, for the current input. Select another capsule or digit anywhere above to follow it.`;
    const squash = el('div', { className: 'math-step' },
      el('h3', {}, 'Squash: the primary capsule\u2019s output'),
      line(sub('s', 'i'), ' = ', vec(a.s_i), ', its length |', sub('s', 'i'), '| = ', num(a.s_i_length, 'math-s-length')),
      line(sub('u', 'i'), ' = squash(', sub('s', 'i'), ') = |s|\u00b2 / (1 + |s|\u00b2) \u00b7 s / |s| = ', vec(a.u_i)),
      line('|', sub('u', 'i'), '| = ', num(a.s_i_length), '\u00b2 / (1 + ', num(a.s_i_length), '\u00b2) = ',
        num(a.u_i_length, 'math-u-length'), ': the direction is kept, the length squashed below 1.'));
    const weights = el('table', { className: 'numbers-table math-weights' },
      ...a.W_ij.map((row) => el('tr', {}, ...row.map((v) => el('td', {}, fmt(v, 3))))));
    const predict = el('div', { className: 'math-step' },
      el('h3', {}, 'The prediction (vote) for digit capsule j'),
      line(sub('\u00fb', `${j}|i`), ' = ', sub('W', `i${j}`), ' ', sub('u', 'i'), ' = ', vec(a.u_hat),
        ` (${a.u_i.length} numbers in, ${a.u_hat.length} out), length `, num(a.u_hat_length, 'math-uhat-length')),
      el('details', { className: 'numbers' }, el('summary', {}, `The ${a.W_ij.length}\u00d7${a.W_ij[0].length} learned matrix W`), weights));
    const iterations = a.iterations.map((it, k) => el('div', { className: 'math-step math-iteration', 'data-iteration': String(k) },
      el('h3', {}, `Routing iteration ${k + 1} of ${a.iterations.length}`),
      line(sub('b', 'i\u00b7'), ' for digits 0\u2013', String(it.b.length - 1), ' (j marked) = ', this.digits(it.b, a.digit, `math-b-${k}`),
        k === 0 ? ' (all zero: no agreement measured yet)' : ` (b_i${j} grew by the last agreement)`),
      line(sub('c', 'i\u00b7'), ' = softmax(', sub('b', 'i\u00b7'), ') = ', this.digits(it.c, a.digit, `math-c-${k}`)),
      line(sub('s', j), ' = \u03a3', el('sub', {}, 'i'), ' ', sub('c', `i${j}`), ' ', sub('\u00fb', `${j}|i`),
        ' over all primary capsules, |', sub('s', j), '| = ', num(it.s_j_length, `math-sj-length-${k}`)),
      line(sub('v', j), ' = squash(', sub('s', j), ') = ', vec(it.v_j), ', |', sub('v', j), '| = ', num(it.v_j_length, `math-vj-length-${k}`)),
      line('agreement ', sub('\u00fb', `${j}|i`), ' \u00b7 ', sub('v', j), ' = ', num(it.agreement, `math-agreement-${k}`),
        k + 1 < a.iterations.length ? ` \u2192 added to b_i${j} for iteration ${k + 2}` : ' (the last iteration: routing ends here)')));
    this.els.body.replaceChildren(squash, predict, ...iterations, this.loss(a.margin_loss));
  }

  /** Ten numbers, one per digit capsule, the chosen one marked. */
  digits(values, digit, testid) {
    return el('span', { className: 'math-digits', testid }, ...values.map((v, d) => el('span', {
      className: d === digit ? 'math-chosen' : '', title: `digit ${d}: ${v}`, 'data-digit': String(d),
    }, fmt(v, 4))));
  }

  loss(m) {
    const rows = m.lengths.map((length, k) => el('tr', {},
      el('th', { scope: 'row' }, String(k)), el('td', {}, String(m.present[k])), el('td', {}, fmt(length, 4)),
      el('td', { testid: `math-loss-${k}` }, fmt(m.per_digit[k], 5))));
    const head = el('tr', {}, ...['digit k', 'T_k', '|v_k|', 'L_k'].map((t) => el('th', {}, t)));
    return el('div', { className: 'math-step' },
      el('h3', {}, 'The margin loss (what training minimised)'),
      line('L_k = T_k max(0, m\u207a \u2212 |v_k|)\u00b2 + \u03bb (1 \u2212 T_k) max(0, |v_k| \u2212 m\u207b)\u00b2, with m\u207a = ',
        num(m.m_plus), ', m\u207b = ', num(m.m_minus), ', \u03bb = ', num(m.lambda),
        '; T_k = 1 for the digit present (here the network\u2019s own answer stands in for the label).'),
      el('table', { className: 'numbers-table math-loss' }, head, ...rows),
      line('Total: ', el('span', { className: 'num', testid: 'math-loss-total', title: String(m.total) }, fmt(m.total, 5))));
  }
}
