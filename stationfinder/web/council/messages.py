"""The council's words that Python hands to templates and scripts.

Templates write their own text with `_()`; what is here is what a template or script
cannot: the words for the council's codes (statuses, bodies, ratings, story steps: `cv`
in templates), what council.js shows (it gets them as JSON in a data- attribute), and the
courier's words for a refused step, chosen by the error's field and code (never by the
words of its English message). All are gettext msgids, translated per request.
Category names come from council.CATEGORIES and subdistricts from the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext

from stationfinder.core.text import N_

# code -> msgid, per kind of code
LABELS: Mapping[str, Mapping[str, str]] = {
    "status": {
        "new": N_("Awaiting review"),
        "accepted": N_("Accepted"),
        "on_agenda": N_("On a meeting's agenda"),
        "discussed": N_("Discussed at a meeting"),
        "resolved": N_("Resolved"),
        "declined": N_("Declined"),
        "merged": N_("Merged"),
    },
    "responsible": {
        "union": N_("District trade union"),
        "street_office": N_("Subdistrict office"),
        "delivery_firm": N_("Delivery company"),
        "city_management": N_("City management"),
    },
    "rating": {
        "satisfied": N_("Satisfied"),
        "mostly_satisfied": N_("Mostly satisfied"),
        "unsatisfied": N_("Unsatisfied"),
    },
    "follow_up": {
        "open": N_("Not started"),
        "in_progress": N_("In progress"),
        "done": N_("Done"),
        "dropped": N_("Dropped"),
    },
    "event": {
        "raised": N_("Issue raised"),
        "status": N_("Status changed"),
        "reply": N_("Staff reply"),
        "note": N_("Internal note"),
        "assigned": N_("Responsible"),
        "merged": N_("Merged into"),
        "merged_in": N_("A duplicate was merged in"),
        "hidden": N_("Hidden"),
        "restored": N_("Shown again"),
        "flag_hidden": N_("Reported by several couriers; hidden for now"),
        "addition": N_("Added by the courier who raised it"),
        "rated": N_("Rated by the courier who raised it"),
        "reopened": N_("The courier was not satisfied; reopened"),
        "agenda": N_("Put on a council meeting's agenda"),
        "decision": N_("Council decision"),
        "follow_up": N_("Progress on the decision"),
        "phone_shown": N_("Call-back phone viewed"),
        "flag_queued": N_("Reported as abusive; queued for review"),
        "backings_confirmed": N_("Held-back backings counted"),
        "backings_discarded": N_("Held-back backings dropped"),
    },
}

# (field, code) -> the courier's words; (field, None) when any code of that field will
# do. A refusal with neither gets FORM_ERROR. Values such as `title_max` are filled in.
COURIER_ERRORS: Mapping[tuple[str | None, str | None], str] = {
    ("title", None): N_("Give a title of at most %(title_max)s characters."),
    ("description", None): N_("Describe what happened in at most %(description_max)s characters."),
    ("category", None): N_("Choose a category from the list."),
    ("place", "outside_district"): N_(
        "That place is outside %(area)s. Pick it again, choose a station or just "
        "describe the place."
    ),
    ("place", "too_long"): N_("Describe the place in at most %(place_label_max)s characters."),
    ("place", None): N_("The position is not valid; locate again or pick it on the map."),
    ("station_id", None): N_("No such station; please choose again."),
    ("phone", None): N_("The phone number is not valid."),
    ("photo", None): N_(
        "This photo cannot be used: choose a JPEG, PNG or WebP photo of at most "
        "%(photo_max_mb)s MB."
    ),
    ("issue", "issue_closed"): N_("This issue is closed and cannot be backed."),
    ("issue", None): N_("This issue is hidden."),
    ("device_key", "not_yours"): N_("Only the phone that raised this issue can do this."),
    ("device_key", None): N_("This phone's key is not valid; reload the page and try again."),
    ("rating", "not_resolved"): N_("An issue can be rated once it is resolved."),
    ("rating", None): N_("Choose satisfied, mostly satisfied or unsatisfied."),
    ("text", None): N_("Write what to add, in at most %(addition_max)s characters."),
    ("reason", None): N_("Give a reason of at most %(flag_reason_max)s characters."),
    ("comment", None): N_("Write a comment of at most %(addition_max)s characters."),
}
FORM_ERROR = N_("Not sent; please check and try again.")
RATE_LIMITED = N_("Too many tries; please wait a while and try again.")
RATE_LIMITED_FORM = N_(
    "You have sent too many times; please try again later. What you wrote is still below."
)

# What council.js shows: key -> msgid.
SCRIPT_TEXT: Mapping[str, str] = {
    "locating": N_("Finding your position…"),
    "located": N_("Position found"),
    "locate_failed": N_("No position: pick it on the map, choose a station or describe the place."),
    "pinned": N_("Pin dropped on the map"),
    "place_set": N_("Position set"),
    "map_label": N_("Map to pick the place"),
    "map_unavailable": N_(
        "The map cannot load here (weak signal or blocked). Use your position or name the"
        " station instead."
    ),
}


def labels() -> dict[str, dict[str, str]]:
    """LABELS in this request's language."""
    return {kind: {code: gettext(m) for code, m in words.items()} for kind, words in LABELS.items()}


def error_text(field: str | None, code: str | None, **values: object) -> str:
    """The courier's words for a refused step (a CouncilError's field and code), with
    limits such as `title_max` filled in from `values`."""
    msgid = COURIER_ERRORS.get((field, code)) or COURIER_ERRORS.get((field, None)) or FORM_ERROR
    try:
        return gettext(msgid, **values)
    except KeyError:  # a value the caller did not pass: the words without the number
        return gettext(FORM_ERROR)


def script_text() -> dict[str, str]:
    return {key: gettext(msgid) for key, msgid in SCRIPT_TEXT.items()}
