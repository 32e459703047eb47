"""Staff accounts without Flask: roles, password hashing, sign-in with its throttling,
API tokens, and making and changing accounts (the CLI and the accounts page both call
these). The web glue (Flask-Login, `staff_required`, bearer tokens) is web/auth.py."""
