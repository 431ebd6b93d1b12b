"""The HTTP layer: the table of endpoints, the views, request and answer formats, errors."""
