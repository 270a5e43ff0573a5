"""Evaluation: confusion-matrix metrics (numpy only), evaluation of any predictor over a split, and reports.

`metrics`, `evaluator` and `report` stay torch-free so exported ONNX bundles are evaluated with the same code
as checkpoints; `predictor` (torch) turns a checkpoint into a `predict(image) -> labels` function.
"""
