"""The cloud-to-cloud smart-home door: Google-style fulfillment, OAuth2 account linking, report state."""

from oneteam.interop.smarthome.errors import error_code
from oneteam.interop.smarthome.fulfillment import Fulfillment
from oneteam.interop.smarthome.oauth import SCOPES, Grantee, OAuthRefusal, OAuthService
from oneteam.interop.smarthome.ratelimit import RateLimiter
from oneteam.interop.smarthome.records import ALL_DEVICES, Link, Partner
from oneteam.interop.smarthome.report_state import ReportStatePusher, sign, verify
from oneteam.interop.smarthome.service import SmartHomeService
from oneteam.interop.smarthome.store import PartnerStore

__all__ = [
    "ALL_DEVICES",
    "SCOPES",
    "Fulfillment",
    "Grantee",
    "Link",
    "OAuthRefusal",
    "OAuthService",
    "Partner",
    "PartnerStore",
    "RateLimiter",
    "ReportStatePusher",
    "SmartHomeService",
    "error_code",
    "sign",
    "verify",
]
