"""The web layer shared by every FastAPI function: app factory, errors, auth."""
