"""gridgov web API: FastAPI app, settings, database, CLI."""
