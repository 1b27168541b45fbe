"""ganzoo's commands as functions, one module a command, each returning a typed result:
``train`` (a :class:`ganzoo.rundir.Run`), ``generate`` (:class:`Generated`), ``evaluation``
(:class:`Evaluation`), ``show`` (:class:`RunInfo`), ``data`` (:class:`DataRow` a dataset) and
``catalogue`` (:class:`ComponentRow` a component). ``ganzoo.api`` gathers them as the public API;
compare, report and export build on these results.
"""
