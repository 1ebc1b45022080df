"""Placeholder: routes are added by the module owner."""
