"""The audit trail: who changed what, when, before and after; logins and refusals
(docs/security.md § Audit trail). Reads no other app: its triggers name their tables."""
