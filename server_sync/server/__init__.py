"""The central server: FastAPI app, device auth, long-poll event feed, patient page."""

from server_sync.server.app import create_app

__all__ = ["create_app"]
