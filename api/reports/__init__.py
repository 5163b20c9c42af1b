"""Reports written to files (the offline heatmap page)."""
