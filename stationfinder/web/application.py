"""The Flask class the app factory makes, with two per-request costs taken off.

Profiling the nearest endpoint under load (bench/http_load.py --profile) showed two
pieces of Flask's own bookkeeping at ~10 % of a request between them, on every request
including the API's, which never uses a session:

* opening the cookie session builds an itsdangerous signer even when the request
  carries no session cookie at all (couriers' phones never get one);
* `ensure_sync` asks `inspect.iscoroutinefunction` about every before/after-request
  function on every request.

Both are documented override points; the behaviour is Flask's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask import request as flask_request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie gets a new empty
    session straight away (what Flask returns then too, after building a signer).

    The cookie is Secure whenever the request came over HTTPS (behind a proxy: with
    STATIONFINDER_TRUSTED_PROXIES set, ProxyFix makes X-Forwarded-Proto count).
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or flask_request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


class StationFinderFlask(Flask):
    session_interface = CookieSessions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, remembered per function: views and hooks are the same few
        functions on every request. Functions made per request (`after_this_request`)
        would fill the memo, so it is emptied when it holds more than a view and hook
        set ever needs."""
        try:
            return self._sync[func]
        except KeyError:
            if len(self._sync) >= _MAX_REMEMBERED:
                self._sync.clear()
            sync = self._sync[func] = super().ensure_sync(func)
            return sync
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)


_MAX_REMEMBERED = 1024
