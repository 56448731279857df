"""shailoo's GSM modem driver (asyncio AT commands over pyserial) and modem emulator."""
