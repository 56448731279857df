"""shailoo's pipeline: modems in, stored parts, messages, reports and replies out.

It drives ``modem`` backends, parses with ``parser`` and writes through ``store``; it never
imports ``api`` (or the other way round), and ``cli`` assembles it into a process.
``ingest.py`` and ``spool.py`` hand parts up exactly once, ``assembly.py`` joins multipart
SMS, ``pipeline.py`` turns messages into reports and replies, ``outbox.py`` sends,
``service.py`` runs it all for a set of modems.
"""
