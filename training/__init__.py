"""Training: fit each model version, export it to ONNX, write its model card (``make train``)."""
