"""shailoo's REST API for dashboards, statisticians and other tools."""
