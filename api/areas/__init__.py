"""Area editing services: versions (save_versions), edits (preview / save of each operation),
reads of one area and its history, validation reports."""
