// Ten vertical bars, one per digit capsule, for capsule lengths in [0, 1].
import { fmt } from './heatmap.js';

export function renderBars(container, lengths, { winner = null, title = 'length' } = {}) {
  if (container.children.length !== lengths.length) {
    container.replaceChildren(...lengths.map((_, digit) => {
      const col = document.createElement('div');
      col.className = 'bar-col';
      col.setAttribute('role', 'listitem');
      col.tabIndex = 0;
      const value = document.createElement('span');
      value.className = 'bar-value';
      const track = document.createElement('div');
      track.className = 'bar-track';
      const fill = document.createElement('div');
      fill.className = 'bar-fill';
      track.append(fill);
      const label = document.createElement('span');
      label.className = 'bar-label';
      label.textContent = String(digit);
      col.append(value, track, label);
      return col;
    }));
    container.setAttribute('role', 'list');
  }
  lengths.forEach((length, digit) => {
    const col = container.children[digit];
    const clamped = Math.max(0, Math.min(1, length));
    col.querySelector('.bar-fill').style.height = `${(100 * clamped).toFixed(1)}%`;
    col.querySelector('.bar-value').textContent = fmt(length, 2);
    col.title = `Digit ${digit}: ${title} ${length.toFixed(4)}`;
    col.setAttribute('aria-label', `Digit ${digit}, ${title} ${length.toFixed(3)}`);
    col.classList.toggle('winner', digit === winner);
  });
}

export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i] > values[best]) best = i;
  return best;
}
