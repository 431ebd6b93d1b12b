// The elements of this section's template (votes.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (votes.html). */
export const votesElements = () => byId({
  section: 'votes', plot: 'votes-plot', projection: 'votes-projection', agreement: 'agreement', caption: 'votes-caption',
  evidenceInput: 'evidence-input', evidenceOverlay: 'evidence-overlay', evidenceToggle: 'evidence-toggle',
  evidenceNote: 'evidence-note',
});
