"""A meeting as an iCalendar (RFC 5545) file, for couriers' and staff's calendars."""

from __future__ import annotations

from flask_babel import gettext, pgettext

from stationfinder.council.meetings import meeting_end
from stationfinder.models import Meeting
from stationfinder.web.i18n import vocabulary_label


def meeting_ics(meeting: Meeting, url: str) -> bytes:
    # Imported here: ~9 MB resident in every worker for a file a few people download.
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//stationfinder//小哥议事厅//ZH")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"council-meeting-{meeting.id}@stationfinder")
    event.add("dtstamp", meeting.created_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting_end(meeting))
    # In the page's language, like the page the file was downloaded from.
    event.add("summary", gettext("Couriers' Council") + gettext(": ") + meeting.title)
    event.add(
        "location",
        meeting.place + gettext(" (%(text)s)", text=vocabulary_label("street", meeting.street)),
    )
    event.add("description", pgettext("list", ", ").join(meeting.organisations) + f"\n{url}")
    event.add("url", url)
    calendar.add_component(event)
    return calendar.to_ical()
