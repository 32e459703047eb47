"""SQLAlchemy 2.0 declarative models, one module per part of the service, nothing else."""

from stationfinder.models.accounts import LoginThrottle
from stationfinder.models.base import Base, utcnow
from stationfinder.models.council import (
    AgendaIssue,
    AgendaItem,
    CouncilIssue,
    Decision,
    IssueBacking,
    IssueEvent,
    IssueFlag,
    Meeting,
)
from stationfinder.models.registry import (
    ApiToken,
    AreaSet,
    Photo,
    ProblemReport,
    RegistryState,
    StaffAccount,
    Station,
    StationConfirmation,
    StationRevision,
)
from stationfinder.models.weather import WeatherAlert

__all__ = [
    "AgendaIssue",
    "AgendaItem",
    "ApiToken",
    "AreaSet",
    "Base",
    "CouncilIssue",
    "Decision",
    "IssueBacking",
    "IssueEvent",
    "IssueFlag",
    "LoginThrottle",
    "Meeting",
    "Photo",
    "ProblemReport",
    "RegistryState",
    "StaffAccount",
    "Station",
    "StationConfirmation",
    "StationRevision",
    "WeatherAlert",
    "utcnow",
]
