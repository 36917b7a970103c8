"""The AWS CDK constructs that deploy todo-service: one module per thing provisioned.

`assembly.build` puts them together into the app that `cdk/app.py` synthesizes and the tests
check; `stack.TodoServiceStack` wires the constructs to each other.
"""
