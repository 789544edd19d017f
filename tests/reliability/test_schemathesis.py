"""Property-based fuzzing of every operation in the OpenAPI schema, on a live server over
loopback: whatever the body, path or query, the API never answers 5xx. Bounded: a few dozen
examples per operation, no shrinking, derandomized (the same run every time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from api.main import create_app
from rag.config import Settings
from rag.embed import Embedder
from tests.conftest import CORPUS, SEED
from tests.helpers import ingested, live_server

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    """A live server over the fixture corpus (uploads land in a store of its own)."""
    data = tmp_path_factory.mktemp("fuzz") / "data"
    config = Settings(
        data_dir=data,
        collection="fuzz",
        torch_threads=1,
        rate_limit_per_minute=0,
        eval_dir=data / "eval",
        _env_file=None,
    )
    components = ingested(config, embedder, [CORPUS, SEED])
    with live_server(create_app(config, components)) as url:
        yield url


# The schema is the app's own (collection needs it at import); requests go to the live server.
# (schemathesis.pytest.from_fixture does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())
# Valid and invalid inputs both (negative mode breaks types, lengths, patterns, media types).
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)


@schemathesis.serializer("application/jsonl", "application/x-ndjson", "application/x-jsonlines")
def jsonl_bytes(ctx: object, value: object) -> bytes:
    """JSONL uploads are raw text in the schema; send them as UTF-8 bytes."""
    return value.encode() if isinstance(value, str) else str(value).encode()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=60)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    assert response.headers.get("x-request-id")
