"""shailoo's GSM modem driver: asyncio AT commands over pyserial, and a modem emulator.

Layers, each in its own module::

    transport.py   bytes over the serial port (pyserial-asyncio-fast), never awaits
    at.py          framing, pure: lines, final result codes, "> " prompts, URCs at any moment
    driver.py      ATDriver: one command in flight, waiter registered before writing, timeouts
    sms.py         ModemSMS: set-up, list/read/delete/send, status (typed values: records.py)
    concatenation.py  pure: whether a modem runs "AT+CMGD=1;+CMGD=2", from one probe's answer
    pdu.py         PDUs through python-gammu's codec, defects handled; network.py builds DELIVERs
    supervision.py the session loop both backends share: backoff, reconnect, SIM failures
    supervisor.py  ModemSupervisor: receive loop, hand-up then delete, watchdog, reconnect
    gammu_backend.py  GammuBackend: the same through python-gammu, on a worker thread
    backend.py     ModemBackend, the protocol both implement
    probe.py       the checks of `shailoo modem probe`
    emulator.py    ModemEmulator: a virtual modem on a pty (commands in emulator_commands.py)

This package knows nothing of parsing, storage or the API: it hands ``InboundPart`` values up.
"""
