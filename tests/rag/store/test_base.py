"""The store Protocols (rag.store.base): the Chroma backend provides each, with the same
signatures, so the service and the pipeline can be given any backend that does."""

from __future__ import annotations

import inspect

import pytest

from rag.store import base
from rag.store.chroma import ChromaStore


@pytest.mark.parametrize("protocol", [base.VectorIndex, base.DocumentStore, base.Generations])
def test_chroma_provides_every_method_with_the_same_parameters(protocol: type) -> None:
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        ours = inspect.signature(getattr(ChromaStore, name))
        wanted = inspect.signature(member)
        assert list(ours.parameters) == list(wanted.parameters), name


def test_a_chroma_store_is_a_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rag.config import Settings

    store = ChromaStore(Settings(data_dir=tmp_path, collection="protocol", _env_file=None))
    try:
        assert isinstance(store, base.Store)
    finally:
        store.close()
