"""CAFLOW's PyTorch code as real modules: caflow.py (the model's objective, latents and sampling, read
by src/caflow/pytorch.ts into the exported model.py) and train.py (the exported training script)."""
