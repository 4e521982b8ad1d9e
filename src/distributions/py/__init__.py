"""The PyTorch side of `typed-flows fit --engine pytorch`: fit.py (the fitting loop, run beside the
exported model.py of the distribution)."""
