"""Recognizers for mainland-China identifiers, names and addresses."""
