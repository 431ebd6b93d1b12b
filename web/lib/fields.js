// Receptive fields: which pixels of the input a primary capsule, or one ReLU map pixel, saw.
// Computed from the layers' kernel sizes and strides in GET /api/model (valid convolutions,
// as the output shapes there confirm), never typed in: each layer maps a window of `size`
// outputs starting at `start` to (size - 1) * stride + kernel inputs starting at start * stride.

/** The field of one output (row, col) of the last of `layers` ([{kernel, stride}], input
 * first), in the first layer's input: {top, left, size}. */
export function receptiveField(layers, row, col) {
  let top = row;
  let left = col;
  let size = 1;
  for (const { kernel, stride } of layers.slice().reverse()) {
    top *= stride;
    left *= stride;
    size = (size - 1) * stride + kernel;
  }
  return { top, left, size };
}

/** Place an outline element over a canvas showing an h x w image, around `field`, in percent. */
export function placeOutline(outline, field, h, w) {
  if (!field) {
    outline.hidden = true;
    return;
  }
  Object.assign(outline.style, {
    top: `${(100 * field.top) / h}%`,
    left: `${(100 * field.left) / w}%`,
    height: `${(100 * field.size) / h}%`,
    width: `${(100 * field.size) / w}%`,
  });
  outline.hidden = false;
  outline.dataset.field = `${field.top},${field.left},${field.size}`; // for the tests, in pixels
}

export class ReceptiveFields {
  /** els: {capsuleOutline, patchOutline (both over the input), mapOutline (over the enlarged
   * ReLU map), mapsOverlay (a canvas over the ReLU atlas)}. */
  constructor(els) {
    this.els = els;
    this.geo = null;
    this.mapsLayout = null;
  }

  setGeometry(geo) {
    this.geo = geo;
    this.conv1 = [{ kernel: geo.conv1.kernel, stride: geo.conv1.stride }];
    this.primary = [{ kernel: geo.primary.kernel, stride: geo.primary.stride }];
  }

  /** The ReLU atlas' layout (heatmap.js), to outline the field on every map. */
  setMapsLayout(layout) {
    this.mapsLayout = layout;
    this.drawMaps();
  }

  /** Outline primary capsule {row, col} (any type: they share a field), or none (null). */
  showCapsule(capsule) {
    if (!this.geo) return;
    const [h, w] = this.geo.input;
    const [mh, mw] = this.geo.conv1.map;
    this.capsule = capsule;
    placeOutline(this.els.capsuleOutline, capsule && receptiveField([...this.conv1, ...this.primary], capsule.row, capsule.col), h, w);
    placeOutline(this.els.mapOutline, capsule && receptiveField(this.primary, capsule.row, capsule.col), mh, mw);
    this.drawMaps();
  }

  /** Outline the input patch ReLU map pixel (y, x) saw, or none (null). */
  showMapPixel(pixel) {
    if (!this.geo) return;
    const [h, w] = this.geo.input;
    placeOutline(this.els.patchOutline, pixel && receptiveField(this.conv1, pixel.y, pixel.x), h, w);
  }

  /** The capsule's window on each of the ReLU maps: one rectangle per tile of the atlas. */
  drawMaps() {
    const canvas = this.els.mapsOverlay;
    const layout = this.mapsLayout;
    if (!layout) return;
    const scale = 4; // finer than the atlas' own pixels, for thin lines
    canvas.width = layout.width * scale;
    canvas.height = layout.height * scale;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.capsule) return;
    const field = receptiveField(this.primary, this.capsule.row, this.capsule.col);
    ctx.strokeStyle = '#fde725';
    ctx.lineWidth = 1.5;
    for (let k = 0; k < layout.count; k += 1) {
      const x0 = (k % layout.cols) * (layout.w + layout.gap) + field.left;
      const y0 = Math.floor(k / layout.cols) * (layout.h + layout.gap) + field.top;
      ctx.strokeRect(x0 * scale + 0.75, y0 * scale + 0.75, field.size * scale - 1.5, field.size * scale - 1.5);
    }
  }
}
