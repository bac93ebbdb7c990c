"""Serving a run: the predictor, ONNX Runtime sessions, placing text on a map, CSV batches."""
