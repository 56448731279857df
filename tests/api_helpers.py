"""Shared set-up of the API tests: a roster, the demo forms, tokens and a client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from api import create_app
from api.auth import make_token, token_hash
from gateway.ingest import Ingest
from gateway.pipeline import Pipeline
from gateway.spool import Spool
from parser import Deployment
from store import repository
from store.db import Database
from store.queries import tokens
from store.settings import ApiConfig, Settings
from tests.test_pipeline import IMSI, parts_of

STATIONS = [
    {"code": "S001", "name": "School 1", "region": "Chui", "district": "Sokuluk",
     "registered_voters": 1500, "in_sample": True},
    {"code": "S002", "name": "School 2", "region": "Osh", "district": "Kara-Suu",
     "registered_voters": 900, "in_sample": True},
    {"code": "S003", "name": "Club", "region": "Osh", "district": "Nookat",
     "registered_voters": 700, "in_sample": True},
    {"code": "S900", "name": "Not sampled", "region": "Osh", "district": "Nookat",
     "registered_voters": 100, "in_sample": False},
]  # fmt: skip
OBSERVERS = [
    {"code": "1234", "name": "Aida", "phones": ["+996555123456"], "station_code": "S001",
     "language": "en"},
    {"code": "5678", "name": "Bakyt", "phones": ["+996700111222"], "station_code": "S002",
     "language": "ru"},
    {"code": "9012", "name": "Cholpon", "phones": ["+996777333444"], "station_code": "S003",
     "language": "ky"},
]  # fmt: skip
PHONES = {o["code"]: o["phones"][0] for o in OBSERVERS}


@dataclass
class Api:
    """A client over the ASGI app, tokens by scope, and a way to receive SMS."""

    client: httpx.AsyncClient
    db: Database
    tokens: dict[str, str]
    ingest: Ingest
    pipeline: Pipeline

    def as_(self, scope: str | None) -> dict[str, str]:
        """Headers for a token of ``scope`` (None: no token)."""
        return {"Authorization": f"Bearer {self.tokens[scope]}"} if scope else {}

    async def get(self, url: str, scope: str | None = "admin", **params: object) -> httpx.Response:
        return await self.client.get(url, headers=self.as_(scope), params=params or None)

    async def receive(self, text: str, observer: str = "1234", reference: int = 1) -> None:
        """An SMS from ``observer``'s phone, through the real ingest and pipeline."""
        await self.ingest.store(IMSI, parts_of(text, PHONES[observer], reference))
        await self.pipeline.process_pending([IMSI])


async def make_token_of(db: Database, name: str, scope: str) -> str:
    token, prefix = make_token()
    async with db.session() as session:
        await tokens.add_token(session, name, scope, prefix, token_hash(token))
        await session.commit()
    return token


async def open_api(db: Database, deployment: Deployment, data_dir: Path) -> Api:
    async with db.session() as session:
        await repository.upsert_stations(session, STATIONS)
        await repository.upsert_observers(session, OBSERVERS)
        await repository.save_forms(
            session, deployment.deployment, deployment.content_hash,
            deployment.model_dump(mode="json"),
        )  # fmt: skip
        await session.commit()
    scopes = {scope: await make_token_of(db, f"{scope}-token", scope)
              for scope in ("read", "read:pii", "admin")}  # fmt: skip
    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    config = ApiConfig(
        token_cache_s=0,
        broadcasts_per_hour=2,
        events_poll_s=0.05,
        modem_stale_s=3600,
        cache_s=0,
    )
    app = create_app(db, config)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://shailoo")
    return Api(
        client, db, scopes, Ingest(db, Spool(settings.spool_path)),
        Pipeline(db, deployment, settings),
    )  # fmt: skip
