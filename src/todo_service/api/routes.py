"""The route table: every URL the API answers, in one place."""

from __future__ import annotations

from aiohttp import web

from todo_service.api import handlers


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", handlers.index)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/openapi.json", handlers.openapi)
    app.router.add_get("/todos", handlers.list_todos)
    app.router.add_post("/todos", handlers.create_todo)
    app.router.add_get("/todos/{id}", handlers.get_todo)
    app.router.add_patch("/todos/{id}", handlers.update_todo)
    app.router.add_delete("/todos/{id}", handlers.delete_todo)
    app.router.add_post("/todos/{id}/toggle", handlers.toggle_todo)
