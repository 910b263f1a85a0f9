"""robbench-plugin."""
