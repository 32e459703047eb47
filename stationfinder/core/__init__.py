"""Vocabulary, hours, privacy and other plain-Python ground every layer stands on. No Flask."""
