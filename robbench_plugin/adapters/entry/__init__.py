"""Scripts that frameworks start as separate processes (kept in their own folder: a script's folder
comes first on ``sys.path``, and the adapter modules beside it are named like the frameworks)."""
