"""The gettext catalogues (zh_CN, en) and the script that keeps them up to date (sync.py)."""
