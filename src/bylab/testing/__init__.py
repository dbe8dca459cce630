"""Test helpers shipped with bylab: instances on each storage backend, and a running server."""
