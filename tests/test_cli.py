"""The ``shailoo`` command as a user runs it: a real process, real files, real pipes."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_FORMS, PRESIDENTIAL_FORMS

SHAILOO = str(Path(sys.executable).parent / "shailoo")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHAILOO, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_parse_json_has_the_documented_shape() -> None:
    done = run(
        "parse",
        "--forms",
        str(DEMO_FORMS),
        "--lang",
        "en",
        "--json",
        "OP 01234 A1 B9000 C31 ZZ1 @ queue",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == [
        "text",
        "ok",
        "form",
        "observer",
        "answers",
        "comment",
        "errors",
        "reply",
    ]
    assert result["text"] == "OP 01234 A1 B9000 C31 ZZ1 @ queue"
    assert result["ok"] is False
    assert (result["form"], result["observer"], result["comment"]) == ("OP", "01234", "queue")
    assert result["answers"] == {"A": 1, "C": [1, 3]}
    assert result["errors"] == [
        {"code": "OUT_OF_RANGE", "tag": "B", "span": [12, 17], "message": "B: 9000 is above 5000"},
        {
            "code": "UNKNOWN_QUESTION",
            "tag": "ZZ",
            "span": [22, 25],
            "message": "unknown question ZZ",
        },
    ]
    assert result["reply"].startswith("OP 01234 NOT saved: B: 9000 is above 5000")


def test_parse_defaults_to_the_first_language_of_the_forms_file() -> None:
    done = run("parse", "-f", str(DEMO_FORMS), "--json", "OP 1234 A1")
    assert json.loads(done.stdout)["reply"] == "Кабыл алынды: OP 1234, 1 жооп. Рахмат!"


def test_parse_without_json_shows_a_caret_under_each_problem() -> None:
    done = run("parse", "--forms", str(DEMO_FORMS), "--lang", "en", "OP 1234 A1 B9000")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "  OP 1234 A1 B9000"
    assert lines[1] == "             ^^^^^ OUT_OF_RANGE: B: 9000 is above 5000"
    assert "reply: OP 1234 NOT saved: B: 9000 is above 5000." in done.stdout


def test_parse_dash_reads_stdin_and_writes_one_json_line_per_message_in_order() -> None:
    messages = ["OP 1234 A1", "", "garbage", "ОР 1234 А2 В10", "IN 555 K15"]
    done = run("parse", "--forms", str(DEMO_FORMS), "-", stdin="\n".join(messages) + "\n")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [result["text"] for result in results] == messages
    assert [result["ok"] for result in results] == [True, False, False, True, True]


def test_parse_dash_flushes_each_result_as_its_line_arrives() -> None:
    with subprocess.Popen(
        [SHAILOO, "parse", "--forms", str(DEMO_FORMS), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        for text in ("OP 1234 A1", "OP 1234 A2"):
            process.stdin.write(text + "\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["text"] == text  # before EOF
        process.stdin.close()
        assert process.wait(timeout=30) == 0


def test_forms_check_prints_a_summary_table() -> None:
    done = run("forms", "check", str(PRESIDENTIAL_FORMS))
    assert done.returncode == 0, done.stderr
    assert "deployment 'presidential-2027' is valid" in done.stdout
    table = done.stdout.splitlines()[1:]
    assert table[0].split() == ["code", "kind", "name", "questions", "required", "checks"]
    assert [row.split()[0] for row in table[1:]] == ["OP", "VP", "CL", "RS", "IN"]


def test_forms_check_lists_every_mistake_and_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "forms.yaml"
    bad.write_text(
        DEMO_FORMS.read_text(encoding="utf-8")
        .replace("type: integer", "type: number")
        .replace('"D <= B"', '"D <= Q"'),
        encoding="utf-8",
    )
    done = run("forms", "check", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "forms[0].questions[1].type (line 15): should be one of" in done.stderr
    assert "forms[0].questions[3].type (line 24): should be one of" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forms", "check", "/nonexistent/forms.yaml"], "no such file"),
        (["parse", "--forms", str(DEMO_FORMS), "--lang", "de", "OP 1"], "use ky, ru or en"),
    ],
)
def test_user_mistakes_end_with_a_sentence_and_exit_2(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_help_explains_the_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    for word in ("parse", "forms", "observers"):
        assert word in done.stdout
    assert "JSONL" in run("parse", "--help").stdout


VALID_PDU = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"


def test_pdu_decode_json_has_the_documented_shape() -> None:
    done = run("pdu", "decode", "--json", VALID_PDU)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "ok": True, "type": "deliver", "sender": "+31641600986",
        "timestamp": "2002-08-26T19:37:41+00:00", "text": "How are you?", "coding": "gsm7",
        "concat": None, "error": None,
    }  # fmt: skip


def test_pdu_decode_dash_writes_one_json_line_per_pdu_and_never_a_traceback() -> None:
    done = run("pdu", "decode", "-", stdin=f"{VALID_PDU}\n0791ZZ\n\n07911326\n")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [result["ok"] for result in results] == [True, False, False]
    assert all(result["error"] for result in results[1:])
    assert "Traceback" not in done.stderr


async def test_modem_emulate_runs_a_modem_that_takes_sms_from_stdin(tmp_path: Path) -> None:
    from modem.driver import ATDriver
    from modem.sms import ModemSMS, to_part

    link = tmp_path / "modem0"
    process = await asyncio.create_subprocess_exec(
        SHAILOO, "modem", "emulate", "--link", str(link),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        assert first.decode().startswith("/dev/pts/")
        process.stdin.write(b"+996555123456 OP 1234 A1 B250\n")
        await process.stdin.drain()
        driver = ATDriver(str(link))
        await driver.open()
        try:
            sms = ModemSMS(driver)
            await sms.initialize()
            for _ in range(100):
                stored = [m for s in sms.storages for m in await sms.list_stored(s)]
                if stored:
                    break
                await asyncio.sleep(0.05)
            assert [to_part(m).text for m in stored] == ["OP 1234 A1 B250"]
        finally:
            await driver.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    assert not link.exists()


async def test_modem_emulate_takes_no_concat_and_latency_ms(tmp_path: Path) -> None:
    from modem.driver import ATDriver
    from modem.errors import ATCommandError

    link = tmp_path / "modem0"
    process = await asyncio.create_subprocess_exec(
        SHAILOO, "modem", "emulate", "--link", str(link), "--no-concat", "--latency-ms", "40",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        await asyncio.wait_for(process.stdout.readline(), timeout=20)
        driver = ATDriver(str(link))
        await driver.open()
        try:
            with pytest.raises(ATCommandError):
                await driver.command("AT+CGMI;+CGMM")
            started = asyncio.get_running_loop().time()
            await driver.command("AT+CGMI")
            assert asyncio.get_running_loop().time() - started >= 0.04
        finally:
            await driver.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0


async def test_modem_emulate_prints_every_sms_it_is_asked_to_send(tmp_path: Path) -> None:
    from modem.driver import ATDriver
    from modem.sms import ModemSMS

    link = tmp_path / "modem0"
    process = await asyncio.create_subprocess_exec(
        SHAILOO, "modem", "emulate", "--link", str(link),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    long_reply = "Принято: OP 1234, " + "ответ " * 20
    try:
        await asyncio.wait_for(process.stdout.readline(), timeout=20)  # the device path
        driver = ATDriver(str(link))
        await driver.open()
        try:
            sms = ModemSMS(driver)
            await sms.initialize()
            await sms.send_sms("+996555123456", "OK: OP 1234 received")
            await sms.send_sms("+996700111222", long_reply)
        finally:
            await driver.close()
        lines = [
            (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode().rstrip("\n")
            for _ in range(2)
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=10)
    assert lines == [
        "sent to +996555123456 (1 part): OK: OP 1234 received",
        f"sent to +996700111222 (3 parts): {long_reply}",
    ]


async def _emulated_imsi(*options: str, link: Path) -> str:
    from modem.driver import ATDriver

    process = await asyncio.create_subprocess_exec(
        SHAILOO, "modem", "emulate", "--link", str(link), *options,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        await asyncio.wait_for(process.stdout.readline(), timeout=20)
        driver = ATDriver(str(link))
        await driver.open()
        try:
            lines = (await driver.command("AT+CIMI")).lines
        finally:
            await driver.close()
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=10)
    return "".join(line for line in lines if line.isdigit())


async def test_modem_emulate_gives_each_link_its_own_imsi_unless_told(tmp_path: Path) -> None:
    first = await _emulated_imsi(link=tmp_path / "modem0")
    second = await _emulated_imsi(link=tmp_path / "modem1")
    assert len(first) == len(second) == 15
    assert first != second
    assert await _emulated_imsi("--imsi", "437050000000042", link=tmp_path / "m") == (
        "437050000000042"
    )
    assert run("modem", "emulate", "--imsi", "12").returncode == 2


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"shailoo {version('shailoo')}\n"


def test_the_demos_curl_lines_fit_80_columns_and_paste_into_a_shell() -> None:
    from cli.demo import curl_lines

    token = "shl_0123abcd_" + "x" * 43
    lines = curl_lines(8081, token)
    assert all(len(line) < 80 for line in lines)
    pasted = "\n".join(line.strip() for line in lines[1:])
    fake_curl = "curl() { printf '%s\\n' \"$@\"; }\n"
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", fake_curl + pasted],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:8081/api/v1/coverage?form=OP",
    ]  # fmt: skip


def test_make_demo_takes_the_api_port_from_port() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [make, "-n", "-C", str(root), "demo", "PORT=8099"], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert "shailoo demo --api-port 8099" in done.stdout


def test_a_cp1251_forms_file_is_named_as_such_with_how_to_save_it_as_utf8(tmp_path: Path) -> None:
    from store.bootstrap import read_forms_file
    from store.errors import ConfigError

    ansi = tmp_path / "forms.yaml"
    ansi.write_bytes(DEMO_FORMS.read_text(encoding="utf-8").encode("cp1251", errors="replace"))
    done = run("forms", "check", str(ansi))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    said = f"{ansi}: the file is saved in the Windows Cyrillic encoding (cp1251), not UTF-8."
    assert done.stderr.startswith(f"error: {said} Save it as UTF-8: in Notepad")
    with pytest.raises(ConfigError, match="cp1251"):  # what 'shailoo forms load' says
        read_forms_file(ansi)
