"""ganzoo's built-in plugins, registered through the ``ganzoo`` entry-point group like any other."""
