// The elements of this section's template (routing.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (routing.html). */
export const routingElements = () => byId({
  heat: 'routing-heat', marker: 'routing-marker', legend: 'routing-legend', bars: 'routing-bars', step: 'routing-step',
  prev: 'routing-prev', next: 'routing-next', play: 'routing-play', position: 'routing-position', digit: 'routing-digit',
  digitName: 'routing-digit-name', summary: 'routing-summary', caption: 'routing-caption', stretch: 'routing-stretch',
  iterations: 'routing-iterations',
});
