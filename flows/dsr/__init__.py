"""Data-subject requests (PIPL articles 45-47): access exports, corrections, erasure with suppression.

The privacy stage calls `PrivacyHook` (flows/dsr/hook.py): before de-identification it processes the new
requests in the restricted zone, while de-identifying it drops rows of erased persons, and after the warehouse
is written it records corrections and the audit and erases the persons from the warehouse's built tables.
"""
