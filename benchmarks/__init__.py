"""Benchmarks for skdistill on real tabular data sets."""
