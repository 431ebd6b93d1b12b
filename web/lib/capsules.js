// The order of the primary capsules, as every answer sends them and the model computes them
// (docs/api.md#order-of-the-primary-capsules): index i = (row * cols + col) * types + type,
// arrays shaped [rows, cols, types, ...]. The one place the page converts (type, row, col).

/** {rows, cols, types} of an array shaped [rows, cols, types, ...]. */
export const gridOf = (shape) => ({ rows: shape[0], cols: shape[1], types: shape[2] });

/** Capsule (type, row, col) -> its index in the model's order. */
export const capsuleIndex = ({ cols, types }, type, row, col) => (row * cols + col) * types + type;

/** The inverse of capsuleIndex. */
export const capsuleAt = ({ rows, cols, types }, index) => ({
  type: index % types, row: Math.floor(index / (cols * types)) % rows, col: Math.floor(index / types) % cols,
});
