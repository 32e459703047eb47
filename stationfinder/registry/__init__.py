"""The station registry: the one declaration of a station, validation, loading, editing,
history, imports and exports, reports, photos, the live index and the locator. No Flask.
"""
