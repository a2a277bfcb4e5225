"""Test helpers shared by every app's tests: a small city and fixed personas."""
