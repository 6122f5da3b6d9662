"""Generated pipelines: the files the engine generates from an analysis, and their validation results."""
