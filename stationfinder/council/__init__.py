"""The couriers' council (小哥议事厅): issues, triage, meetings, similar issues and statistics.
No Flask.
"""
