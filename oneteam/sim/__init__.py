"""Simulated physics shared by the virtual appliances and the services that learn from them.

This inner room imports only `oneteam.model`, so both `integrations/virtual` (which emits the
telemetry) and `services/maintenance` (which trains on simulated fleets) can use it without
importing each other.
"""

from oneteam.sim.degradation import (
    AMBIENT_TEMPERATURE,
    COMPRESSOR_DUTY,
    LOAD,
    MOTOR_CURRENT,
    OUTDOOR_TEMPERATURE,
    PROFILES,
    REFRIGERANT_PRESSURE,
    VIBRATION,
    DegradingAppliance,
    FaultProfile,
    TelemetrySample,
    profile_for_attributes,
    run_to_failure,
)

__all__ = [
    "AMBIENT_TEMPERATURE",
    "COMPRESSOR_DUTY",
    "LOAD",
    "MOTOR_CURRENT",
    "OUTDOOR_TEMPERATURE",
    "PROFILES",
    "REFRIGERANT_PRESSURE",
    "VIBRATION",
    "DegradingAppliance",
    "FaultProfile",
    "TelemetrySample",
    "profile_for_attributes",
    "run_to_failure",
]
