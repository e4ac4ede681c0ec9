"""The hospital's operations console at /admin: staff log in to watch the queues, the fleet of
devices and the statistics; `/metrics` serves Prometheus."""

from __future__ import annotations

from fastapi import APIRouter

from server_sync.server.admin import metrics, monitor, pages, statistics


def console_router() -> APIRouter:
    router = APIRouter()
    router.include_router(pages.router)
    router.include_router(monitor.router)
    router.include_router(statistics.router)
    router.include_router(metrics.router)
    return router


__all__ = ["console_router", "install_metrics"]

install_metrics = metrics.install_metrics
