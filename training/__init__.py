"""Training and evaluation: `python -m training.train`, `python -m training.evaluate`; what each model learns from (tasks.py)."""
