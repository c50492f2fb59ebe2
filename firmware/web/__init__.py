"""The tiny HTTP server (server.py) and its message parsing (message.py, urlcode.py)."""
