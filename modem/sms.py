"""The typed command API over ``ATDriver``: set a modem up, list, read, delete and send SMS.

Responses are parsed tolerantly: a line that does not fit (garbage, vendor noise the framer let
through) is logged and skipped, never fatal. Deleting uses ``AT+CMGD=<index>`` only, never a
flag form: a flag deletes what we may not have handed up yet; several to a line only on a modem
that was seen to run such lines (``modem.concatenation``), once per connection.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from modem.at import Completed
from modem.concatenation import PROBE, Concatenation, concatenation_from
from modem.driver import ATDriver
from modem.errors import ATCommandError, ATTimeout, CMEError, PDUError, SIMError
from modem.pdu import decode_pdu, submit_pdus
from modem.records import InboundPart, ModemIdentity, ModemStatus, StorageUse, StoredPDU

__all__ = ["NEW_MESSAGE_INDICATIONS", "ModemSMS", "ModemSettings", "to_part"]

_LOGGER = logging.getLogger(__name__)
_LISTING = re.compile(r"\+CMG[LR]: *(?:(\d+) *,)? *(\d+) *,[^,]*, *(\d+)")
_QUOTED = re.compile(r'"([^"]*)"')
_NUMBERS = re.compile(r"\d+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_REGISTRATION = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown",
                 5: "roaming"}  # fmt: skip
NEW_MESSAGE_INDICATIONS = ("2,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0")
"""``AT+CNMI`` settings to try in turn: new messages stored and announced with ``+CMTI``."""
_DELETES_PER_LINE = 16  # "AT+CMGD=123;..." stays well under the 256 characters modems accept


@dataclass(frozen=True, slots=True)
class ModemSettings:
    """How to set a modem up: its PIN, and which storage receives (``auto``: the largest)."""

    pin: str | None = None
    storage: str = "auto"


class ModemSMS:
    """SMS and status commands for one modem."""

    def __init__(self, driver: ATDriver, settings: ModemSettings | None = None) -> None:
        self.driver = driver
        self.settings = settings or ModemSettings()
        self.storages: tuple[str, ...] = ()
        # The storage AT+CMGL/CMGR/CMGD act on, and the driver's count of out-of-band lines
        # when it was chosen: any URC or noise since (a modem rebooting says "^BOOT", "RDY")
        # means choosing again before deleting, so an index is never deleted in the wrong place.
        self._selected: tuple[str, int] | None = None
        self.concatenation = Concatenation.UNKNOWN

    async def initialize(self) -> ModemIdentity:
        """Echo off, verbose errors, SIM unlocked, PDU mode, storages, ``+CMTI`` on arrival."""
        await self._sync()
        await self.driver.command("ATE0")
        await self.driver.command("AT+CMEE=1")
        await self._unlock_sim()
        await self.driver.command("AT+CMGF=0")
        await self._probe_concatenation()
        await self._choose_storages()
        await self._enable_indications()
        return await self.identity()

    async def _sync(self) -> None:
        # Whatever a previous user left half-typed (or a PDU prompt) is cancelled by ESC.
        self.driver.abort_input()
        for attempt in range(3):
            try:
                await self.driver.command("AT", timeout_s=self.driver.timeouts.sync_s)
                return
            except (ATCommandError, ATTimeout):  # junk in its buffer: the next AT is clean
                if attempt == 2:
                    raise

    async def _unlock_sim(self) -> None:
        state = _value(await self.driver.command("AT+CPIN?"), "+CPIN:")
        if state == "READY":
            return
        if state != "SIM PIN":
            raise SIMError("AT+CPIN?", f"SIM wants {state}", 0)
        if not self.settings.pin:
            raise SIMError("AT+CPIN?", "SIM PIN required and no PIN is configured", 0)
        try:
            await self.driver.command(f'AT+CPIN="{self.settings.pin}"')
        except CMEError as exc:  # never retried: three wrong PINs lock the SIM
            raise SIMError(
                exc.command, f"the SIM refused the configured PIN ({exc.final})", exc.code
            ) from exc

    async def _probe_concatenation(self) -> None:
        lines: list[str] = []
        try:
            completed = await self.driver.command(PROBE, on_line=lines.append)
        except ATCommandError:
            ok = False
        except ATTimeout:  # a modem that chokes on such lines: never send it another one
            self.concatenation = Concatenation.FIRST_ONLY
            return
        else:
            ok, lines = completed.ok, list(completed.lines)
        self.concatenation = concatenation_from(tuple(lines), ok)
        _LOGGER.debug("%s: concatenated lines: %s", self.driver.device, self.concatenation.value)

    async def _choose_storages(self) -> None:
        response = await self.driver.command("AT+CPMS=?")
        offered = _QUOTED.findall(_value(response, "+CPMS:").split(")")[0])
        self.storages = tuple(dict.fromkeys(name.upper() for name in offered)) or ("SM",)
        receive = self.settings.storage.upper()
        if receive == "AUTO":
            sizes = {name: (await self._select(name)).total for name in self.storages}
            receive = max(sizes, key=lambda name: sizes[name])
        await self.driver.command(f'AT+CPMS="{receive}","{receive}","{receive}"')
        self._selected = (receive, self.driver.out_of_band)

    async def _enable_indications(self) -> None:
        # Store and notify (+CMTI); never routed +CMT, which is lost if we are not listening.
        for setting in NEW_MESSAGE_INDICATIONS:
            try:
                await self.driver.command(f"AT+CNMI={setting}")
                return
            except ATCommandError:
                continue
        _LOGGER.warning("%s: accepts no +CMTI setting; relying on the sweep", self.driver.device)

    async def identity(self) -> ModemIdentity:
        """Manufacturer, model, revision, IMEI and IMSI."""
        answers = [
            await self._text(command)
            for command in ("AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI")
        ]
        return ModemIdentity(*answers)

    async def _text(self, command: str) -> str:
        lines = (await self.driver.command(command)).lines
        return lines[0].split(":", 1)[-1].strip() if lines else ""

    async def _select(self, storage: str) -> StorageUse:
        self._selected = None
        numbers = _NUMBERS.findall(
            _value(await self.driver.command(f'AT+CPMS="{storage}"'), "+CPMS:")
        )
        self._selected = (storage, self.driver.out_of_band)
        used, total = (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (0, 0)
        return StorageUse(storage, used, total)

    async def _use(self, storage: str) -> None:
        if self._selected != (storage, self.driver.out_of_band):
            await self._select(storage)

    async def list_stored(
        self, storage: str, on_stored: Callable[[StoredPDU], None] | None = None
    ) -> list[StoredPDU]:
        """Every message in ``storage`` (``AT+CMGL=4``), read or not. ``on_stored`` sees each
        one as soon as its lines arrive, long before a full SIM's listing ends."""
        await self._use(storage)
        listing = _Listing(storage)

        def line_received(line: str) -> None:
            stored = listing.feed(line)
            if stored is not None and on_stored is not None:
                on_stored(stored)

        await self.driver.command(
            "AT+CMGL=4", timeout_s=self.driver.timeouts.list_s, on_line=line_received
        )
        return listing.found

    async def read_stored(self, storage: str, index: int) -> StoredPDU | None:
        """The message at ``index`` (``AT+CMGR``), or None if the slot is empty."""
        await self._use(storage)
        try:
            response = await self.driver.command(f"AT+CMGR={index}")
        except ATCommandError:
            return None
        stored = _listing(storage, response.lines, index)
        return stored[0] if stored else None

    async def delete(self, storage: str, index: int) -> None:
        """Delete one index (``AT+CMGD=<index>``, never a flag form)."""
        await self._use(storage)
        await self.driver.command(f"AT+CMGD={index}")

    async def delete_many(self, storage: str, listed: list[StoredPDU]) -> None:
        """Delete these listed messages: several per command line (``AT+CMGD=1;+CMGD=2``,
        V.250 concatenation, one round trip instead of one each) on a modem that runs such
        lines, else one per command, never read again: nothing else touched their slots.

        If a line fails, some of its indexes may be free already, and a new message may have
        landed in one: so each is read again and deleted only if it still holds the message we
        listed. ``ATCommandError`` lists what could not be deleted.
        """
        await self._use(storage)
        if self.concatenation is Concatenation.UNKNOWN and len(listed) > 1:
            await self._probe_concatenation()  # initialize() probes; learn it here otherwise
            await self._use(storage)
        failed: list[str] = []
        start = 0
        while start < len(listed) and self.concatenation.joins_deletes:
            failed += await self._delete_line(listed[start : start + _DELETES_PER_LINE])
            start += _DELETES_PER_LINE
        failed += [await self._delete_one(stored) for stored in listed[start:]]
        if errors := [error for error in failed if error]:
            raise ATCommandError(f"AT+CMGD ({storage})", "; ".join(errors))

    async def _delete_line(self, chunk: list[StoredPDU]) -> list[str]:
        """Delete ``chunk`` in one command line; what went wrong, index by index."""
        try:
            await self.driver.command("AT" + ";".join(f"+CMGD={s.index}" for s in chunk))
        except ATCommandError:
            pass
        else:
            return []
        # Part of the line may have run: an index may be free, or hold a newer message by now.
        held = [await self._still_holds(stored) for stored in chunk]
        failed = [
            await self._delete_one(stored) if still else ""
            for stored, still in zip(chunk, held, strict=True)
        ]
        if len(chunk) > 1 and all(held) and not any(failed):
            # Nothing on the line ran, yet each command alone did: this modem refuses such
            # lines (too long for it?), so one per command from now on, and no more re-reads.
            _LOGGER.info("%s: refuses concatenated deletes; one per command", self.driver.device)
            self.concatenation = Concatenation.REFUSED
        return failed

    async def _still_holds(self, listed: StoredPDU) -> bool:
        current = await self.read_stored(listed.storage, listed.index)
        return current is not None and current.pdu_hex == listed.pdu_hex

    async def _delete_one(self, listed: StoredPDU) -> str:
        """Delete ``listed`` by its index alone; what went wrong, or ''."""
        try:
            await self.driver.command(f"AT+CMGD={listed.index}")
        except ATCommandError as exc:
            return f"{listed.index}: {exc.final}"
        return ""

    async def acknowledge(self) -> None:
        """``AT+CNMA``: acknowledge a routed ``+CMT`` on modems that require it."""
        try:
            await self.driver.command("AT+CNMA")
        except ATCommandError:
            _LOGGER.debug("%s: AT+CNMA not needed here", self.driver.device)

    async def send_sms(self, number: str, text: str) -> list[int]:
        """Send ``text`` (split into parts as needed); the message reference of each part."""
        references = []
        for part in submit_pdus(number, text):
            response = await self.driver.command_with_data(
                f"AT+CMGS={part.tpdu_length}", part.pdu_hex
            )
            references.append(int(_NUMBERS.findall(_value(response, "+CMGS:"))[0]))
        return references

    async def status(self) -> ModemStatus:
        """Signal in dBm, registration, operator and the use of every storage."""
        rssi = _NUMBERS.findall(_value(await self.driver.command("AT+CSQ"), "+CSQ:"))
        signal = None if not rssi or int(rssi[0]) == 99 else -113 + 2 * int(rssi[0])
        creg = _NUMBERS.findall(_value(await self.driver.command("AT+CREG?"), "+CREG:"))
        registration = _REGISTRATION.get(int(creg[1]) if len(creg) > 1 else -1, "unknown")
        operator = _QUOTED.findall(_value(await self.driver.command("AT+COPS?"), "+COPS:"))
        storages = tuple([await self._select(name) for name in self.storages])
        return ModemStatus(signal, registration, operator[0] if operator else "", storages)


def to_part(stored: StoredPDU) -> InboundPart:
    """Decode a stored PDU; an undecodable one keeps its hex and says why."""
    try:
        decoded = decode_pdu(stored.pdu_hex)
    except PDUError as exc:
        _LOGGER.warning("%s[%d]: %s", stored.storage, stored.index, exc)
        return InboundPart(
            stored.storage, stored.index, stored.pdu_hex, kind="unknown", error=str(exc)
        )
    return InboundPart(
        storage=stored.storage,
        index=stored.index,
        pdu_hex=stored.pdu_hex,
        kind=decoded.type,
        sender=decoded.number,
        timestamp=decoded.timestamp,
        text=decoded.text,
        coding=decoded.coding,
        concat=decoded.concat,
        reference=decoded.reference,
        status=decoded.status,
    )


def _value(response: Completed, prefix: str) -> str:
    for line in response.lines:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


class _Listing:
    """Pairs of ``+CMGL:``/``+CMGR:`` header and PDU line, fed a line at a time; anything else
    is logged and skipped."""

    def __init__(self, storage: str, index: int | None = None) -> None:
        self.storage = storage
        self.index = index  # +CMGR headers carry no index
        self.found: list[StoredPDU] = []
        self._header: re.Match[str] | None = None

    def feed(self, line: str) -> StoredPDU | None:
        """The message ``line`` completes, if it does."""
        header, self._header = self._header, _LISTING.match(line)
        if self._header is not None:
            return None
        if header is None or not _HEX.fullmatch(line):
            _LOGGER.debug("%s: skipping unexpected listing line %r", self.storage, line)
            return None
        number = int(header.group(1)) if header.group(1) is not None else self.index
        if number is None:
            return None
        stored = StoredPDU(self.storage, number, int(header.group(2)), line.upper())
        self.found.append(stored)
        return stored


def _listing(storage: str, lines: tuple[str, ...], index: int | None = None) -> list[StoredPDU]:
    """Every message in a complete ``+CMGL``/``+CMGR`` response."""
    listing = _Listing(storage, index)
    for line in lines:
        listing.feed(line)
    return listing.found
