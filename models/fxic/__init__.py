"""fxic training, quantization and export code (PyTorch, CPU)."""
