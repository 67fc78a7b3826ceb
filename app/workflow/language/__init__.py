"""The diagram language: what process owners may write in conditions, scripts and timers, and its budgets.

checker.check() at publish, interpreter.run_expression()/run_script() at run time, library for the listed
functions and methods, limits for the budgets. See README «El lenguaje de los diagramas».
"""
