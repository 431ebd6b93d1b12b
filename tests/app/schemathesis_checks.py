"""A check for the schemathesis command line (loaded by SCHEMATHESIS_HOOKS in test_fuzz.py):
schema-valid data may be refused only for its image's content.

The document cannot say that an uploaded file or a data URL's bytes must be a decodable image
showing a digit, so positive_data_acceptance lets the image endpoints answer 400, 413, 415 and
422. This narrows the 422: only "No digit found" is about the image; any other 422 to
schema-valid data means the server refused a field that the document allows.
"""
from __future__ import annotations

import schemathesis

CONTENT_REFUSAL = "No digit found"


@schemathesis.check
def schema_valid_data_is_refused_only_for_its_image(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    error = response.json().get("error", "")
    if not error.startswith(CONTENT_REFUSAL):
        raise AssertionError(f"Schema-valid data refused with 422 for something other than the image: {error}")
    return None
