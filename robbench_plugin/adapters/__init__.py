"""Framework adapters. Each module imports its framework on import and raises
:class:`~robbench_plugin.errors.MissingExtraError` (naming the pip command) when it is absent."""
