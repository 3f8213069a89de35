"""The flows: plain functions from values to a result or an exception.

They never touch ``request``, ``session`` or ``flash``; the HTML views and the JSON API both
call them, so no rule is written twice.
"""
