"""The command-room cycle: the transition table, deadlines, the case service."""
