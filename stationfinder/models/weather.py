"""Weather alerts the union sets for couriers: heat, cold waves, rainstorms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stationfinder.models.base import Base


class WeatherAlert(Base):
    """One alert and its period; ended early by setting `ended_at`."""

    __tablename__ = "weather_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # heat, cold_wave, rainstorm
    level: Mapped[str] = mapped_column(String(8))  # yellow, orange, red
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    max_temp_c: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_weather_alerts_period", "starts_at", "ends_at"),)
