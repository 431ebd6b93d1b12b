"""The loaded models behind the views: verified, traced once, batched, cached; the committed tables."""
