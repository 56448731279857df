"""The API's queries, one module per resource; functions take a session and never commit."""
