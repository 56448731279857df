"""shailoo's service: composes the modem driver, the parser and storage (see the README)."""
