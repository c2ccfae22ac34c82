"""Execution: idempotent order intents, the append-only ledger, brokers, reconciliation."""
