// The upload preprocessing's numbers, read from the page config, where the server wrote its own
// (app/uploads/rules.py: app/uploads/decode.py, app/uploads/preprocess.py and
// Pillow's limit), so that the page and the server refuse and shape the same uploads alike.
import { pageConfig } from '../../../lib/page-config.js';

export const {
  ACCEPTED_FORMATS, MAX_PIXELS, MAX_SIDE, DECODE_BUDGET, WEBP_BYTES_PER_PIXEL, STORAGE, PNG_BYTES_PER_PIXEL,
  PILLOW_MAX_PIXELS, BOX, FIELD, PAIR_BOX, PAIR_FIELD, WORKING_SIDE, MNIST_STROKE, MIN_CONTRAST, MIN_SIGNAL,
  MIN_EXTENT, SPECK, LIGHT_WINDOW, QUANTUM, MODE_SAMPLES,
} = pageConfig.uploads;

export const NO_DIGIT = (why) => pageConfig.uploads.NO_DIGIT.replace('{}', why);

/** An Error the page shows as the server's refusal: the same HTTP status and message. */
export function refusal(status, message) {
  const error = new Error(message);
  error.status = status;
  return error;
}
