// The elements of this section's template (conv1.html, relu.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (conv1.html, relu.html): the kernels, the ReLU maps, the filter's slide. */
export const conv1Elements = () => byId({
  kernels: 'conv1-kernels', kernelMarker: 'kernel-marker', kernelLegend: 'kernel-legend', index: 'kernel-index',
  big: 'kernel-big', relu: 'kernel-relu', caption: 'kernel-caption', maps: 'relu-maps', mapsMarker: 'relu-marker',
  mapsLegend: 'relu-legend', mapsCaption: 'relu-caption',
});

/** The outlines of receptive fields this section draws over (lib/fields.js). */
export const conv1Fields = () => byId({ mapOutline: 'map-field', mapsOverlay: 'relu-fields' });

export const slideElements = () => byId({
  input: 'slide-input', window: 'slide-window', map: 'slide-map', play: 'slide-play', position: 'slide-position',
});
