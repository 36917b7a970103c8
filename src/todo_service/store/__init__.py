"""DynamoDB: the one client, the table definitions, the repositories, provisioning, the seed loader.

Nothing here imports the HTTP layer. `table` imports only the standard library, because the
CDK app reads it without the service's dependencies installed; keep this file free of imports.
"""
