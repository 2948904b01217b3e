"""A small keyword network over log-mel windows: the wake detector's optional first stage."""
