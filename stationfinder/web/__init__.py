"""The Flask layer: app-wide error handling, security headers, rate limits, i18n and
assets, and one blueprint package per face (couriers, staff, council, api, open311).
"""
