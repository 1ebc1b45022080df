"""The identified person, as the identification providers hand them over."""
