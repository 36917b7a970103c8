"""Local DynamoDB-compatible servers in child processes, for the dev stack, tests and benchmarks."""
