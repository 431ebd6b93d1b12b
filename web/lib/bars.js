// Ten vertical bars, one per digit capsule, for capsule lengths in [0, 1]. With onSelect the
// bars are buttons that choose a digit capsule (keyboard included); without, they only show
// numbers and are not focusable.
import { fmt } from './heatmap.js';

export function renderBars(container, lengths, {
  winner = null, title = 'length', onSelect = null, chosen = null,
} = {}) {
  if (container.children.length !== lengths.length) {
    container.replaceChildren(...lengths.map((_, digit) => {
      const col = document.createElement(onSelect ? 'button' : 'div');
      col.className = 'bar-col';
      if (onSelect) {
        col.type = 'button';
        col.addEventListener('click', () => onSelect(digit));
      } else {
        col.setAttribute('role', 'listitem');
      }
      const value = document.createElement('span');
      value.className = 'bar-value';
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      track.append(fill);
      const label = document.createElement('span');
      label.className = 'bar-label';
      label.textContent = String(digit);
      // The digit first in the text ("0 0.93"), the value still on top (style.css places them).
      col.append(label, ' ', value, track);
      return col;
    }));
    container.setAttribute('role', onSelect ? 'group' : 'list');
  }
  lengths.forEach((length, digit) => {
    const col = container.children[digit];
    const clamped = Math.max(0, Math.min(1, length));
    col.querySelector('.bar-fill').style.height = `${(100 * clamped).toFixed(1)}%`;
    col.querySelector('.bar-value').textContent = fmt(length, 2);
    col.title = `Digit ${digit}: ${title} ${length.toFixed(4)}${onSelect ? ' (click to follow this digit capsule)' : ''}`;
    // A button's name holds the text it shows, digit then value, so that a reader who says
    // what they see can press it: "Length of digit 0: 0.93".
    col.setAttribute('aria-label', onSelect
      ? `${title.charAt(0).toUpperCase()}${title.slice(1)} of digit ${digit}: ${fmt(length, 2)}`
      : `Digit ${digit}, ${title} ${length.toFixed(3)}`);
    col.classList.toggle('winner', digit === winner);
  });
  markChosen(container, chosen);
}

/** Outline bar `digit` as the digit capsule the reader follows (null: none). */
export function markChosen(container, digit) {
  Array.from(container.children).forEach((col, d) => {
    col.classList.toggle('chosen', d === digit);
    if (col.tagName === 'BUTTON') col.setAttribute('aria-pressed', d === digit ? 'true' : 'false');
  });
}

export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i] > values[best]) best = i;
  return best;
}
