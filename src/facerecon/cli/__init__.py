"""The ``facerecon`` command line: the only place that writes files or prints."""
