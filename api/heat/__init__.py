"""Heatmaps, early warning and repeat complaints (the console's analysis layers)."""
