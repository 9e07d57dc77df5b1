"""Presidio recognizers for mainland-China PII, one class per file, registered from registry.yml."""
