"""The API's request and response models (what the OpenAPI document shows)."""
