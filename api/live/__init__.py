"""Live updates for the console and the desk: NOTIFY -> one listener per worker -> SSE per user."""
