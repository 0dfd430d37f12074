"""Audit trail: who changed what, when, with the state before and after."""
