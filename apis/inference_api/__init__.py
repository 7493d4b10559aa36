"""The inference API (port 8080): the Bedrock AgentCore Runtime contract, GET /ping and POST /invocations."""
