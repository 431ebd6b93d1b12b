// Receptive fields: which pixels of the input a primary capsule, or one ReLU map pixel, saw.
// The server computes them from the layers (GET /api/model's receptive_fields: {size, stride});
// unit (row, col) sees the square of `size` pixels from (row * stride, col * stride).

/** The field of unit (row, col), given its layer's {size, stride}: {top, left, size}. */
export function receptiveField({ size, stride }, row, col) {
  return { top: row * stride, left: col * stride, size };
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
    const { fields } = this.geo;
    placeOutline(this.els.capsuleOutline, capsule && receptiveField(fields.primary_caps, capsule.row, capsule.col), h, w);
    placeOutline(this.els.mapOutline, capsule && receptiveField(fields.primary_caps_on_conv1, capsule.row, capsule.col),
      mh, mw);
    this.drawMaps();
  }

  /** Outline the input patch ReLU map pixel (y, x) saw, or none (null). */
  showMapPixel(pixel) {
    if (!this.geo) return;
    const [h, w] = this.geo.input;
    placeOutline(this.els.patchOutline, pixel && receptiveField(this.geo.fields.conv1, pixel.y, pixel.x), h, w);
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
    const field = receptiveField(this.geo.fields.primary_caps_on_conv1, this.capsule.row, this.capsule.col);
    ctx.strokeStyle = '#fde725';
    ctx.lineWidth = 1.5;
    for (let k = 0; k < layout.count; k += 1) {
      const x0 = (k % layout.cols) * (layout.w + layout.gap) + field.left;
      const y0 = Math.floor(k / layout.cols) * (layout.h + layout.gap) + field.top;
      ctx.strokeRect(x0 * scale + 0.75, y0 * scale + 0.75, field.size * scale - 1.5, field.size * scale - 1.5);
    }
  }
}
