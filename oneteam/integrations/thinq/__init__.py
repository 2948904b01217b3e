"""LG ThinQ appliances through LG's official SDK, `thinqconnect` (the ThinQ Connect API)."""

from oneteam.integrations.thinq.adapter import ThinqAdapter
from oneteam.integrations.thinq.config import ThinqConfig, load_thinq_config, save_thinq_config

__all__ = ["ThinqAdapter", "ThinqConfig", "load_thinq_config", "save_thinq_config"]
