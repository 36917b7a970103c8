"""todo-service: an async todo-list API on Amazon DynamoDB."""

__version__ = "0.1.0"
