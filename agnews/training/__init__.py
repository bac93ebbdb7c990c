"""Training and the stages that make a run's parts: data, fine-tuning, evaluation, embeddings,
maps, ONNX export."""
