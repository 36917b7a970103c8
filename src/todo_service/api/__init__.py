"""The HTTP layer: routes, handlers, middlewares, the JSON bodies on the wire, the contract."""
