"""SQLAlchemy 2.0 declarative models, one module per part of the service, nothing else."""

from .base import Base, utcnow
from .registry import (
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

__all__ = [
    "ApiToken",
    "AreaSet",
    "Base",
    "Photo",
    "ProblemReport",
    "RegistryState",
    "StaffAccount",
    "Station",
    "StationConfirmation",
    "StationRevision",
    "utcnow",
]
