"""The DynamoDB client: aioboto3 configured for the service, and its speed-ups behind one switch.

`client.open_client` is the only way the rest of the service gets a client. Everything that
reaches into private parts of botocore or aiobotocore lives in this package and nowhere else
(tests/test_sdk_privacy.py checks), and is applied only when `switch.py` says the installed SDK
is one it was verified on.
"""
