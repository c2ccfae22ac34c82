"""One router per resource of the read-only API."""
