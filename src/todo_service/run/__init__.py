"""Thin shells that run the app: the command line, the server, worker processes, the dev stack."""
