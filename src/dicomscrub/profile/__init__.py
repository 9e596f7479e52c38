"""What to do with each attribute: the PS3.15 rule table, its options and user overrides."""

from dicomscrub.profile.options import Option, parse_options
from dicomscrub.profile.policy import PixelMode, Policy

__all__ = ["Option", "PixelMode", "Policy", "parse_options"]
