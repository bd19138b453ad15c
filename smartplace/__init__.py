"""The smartplace command line and the local process orchestration behind ``smartplace demo``."""
