// The gallery of real MNIST test digits shipped in web/gallery/ (datasets/gallery.py writes it).

const GALLERY = 'static/gallery/';

export async function loadGalleryIndex(signal) {
  const response = await fetch(`${GALLERY}index.json`, { signal });
  if (!response.ok) throw new Error(`Cannot load the gallery (${response.status}).`);
  return response.json();
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`Cannot load ${src}.`));
    img.src = src;
  });
}

/** A gallery PNG (an MNIST test image, at its own size) as {img, pixels: rows of floats
 * 0..1} (light ink on black). */
export const galleryImage = (entry) => GALLERY + entry.file;

/** Any same-origin grey PNG (the gallery's, the mistakes') as {img, pixels}. */
export async function loadPixels(src) {
  const img = await loadImage(src);
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, w, h);
  const pixels = [];
  for (let y = 0; y < h; y += 1) {
    const row = [];
    for (let x = 0; x < w; x += 1) row.push(Math.round((data[(y * w + x) * 4] / 255) * 1000) / 1000);
    pixels.push(row);
  }
  return { img, pixels };
}

/** Render the gallery as a grid of buttons; onPick(entry) is called on click. */
export function renderGallery(container, entries, onPick) {
  const buttons = entries.map((entry) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'gallery-item';
    button.dataset.label = String(entry.label);
    button.dataset.testIndex = String(entry.test_index);
    button.dataset.testid = `gallery-${entry.label}-${entry.test_index}`;
    button.title = `MNIST test image #${entry.test_index} (label ${entry.label})`;
    button.setAttribute('aria-label', `Analyse MNIST test digit ${entry.label}, test image ${entry.test_index}`);
    const img = document.createElement('img');
    img.src = galleryImage(entry);
    img.alt = '';
    button.append(img);
    button.addEventListener('click', () => onPick(entry, button));
    return button;
  });
  container.replaceChildren(...buttons);
  return buttons;
}

export function markActive(buttons, active) {
  for (const b of buttons) b.setAttribute('aria-pressed', b === active ? 'true' : 'false');
}
