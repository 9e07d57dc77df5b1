"""Locale-independent recognizers, written for text where CJK characters touch the value."""
