"""A real language client (pytest-lsp) talking to `yibao lsp` over stdio.

Each test module shares one server process (`python -m yibao.cli.main lsp`,
the same entry point editors start; starting one takes seconds), and its tests
run in the module's event loop (``pytestmark`` in each module).  A test opens
its documents with their full text, so no test sees another's edits.  Helpers open documents and wait for the
diagnostics the server publishes for exactly the version sent.
"""

from __future__ import annotations

import asyncio
import pathlib
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from helpers import POLICIES

SERVER = [sys.executable, "-m", "yibao.cli.main", "lsp"]


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=POLICIES.as_uri()))
    yield
    await lsp_client.shutdown_session()


class Editor:
    """What a test does through the client: open, edit, locate, wait for diagnostics."""

    def __init__(self, client: LanguageClient):
        self.client = client

    uri_of = staticmethod(lambda path: uri_of(path))
    position_of = staticmethod(lambda text, needle, offset=0: position_of(text, needle, offset))

    async def open(self, path: pathlib.Path, text: str | None = None, version: int = 1):
        return await open_document(self.client, path, text, version)

    async def replace(self, uri: str, text: str, version: int):
        return await replace_text(self.client, uri, text, version)

    async def diagnostics(self, uri: str, version: int):
        return await diagnostics_for(self.client, uri, version)


@pytest.fixture
def editor(client) -> Editor:
    return Editor(client)


def uri_of(path: pathlib.Path) -> str:
    return path.resolve().as_uri()


async def diagnostics_for(client: LanguageClient, uri: str, version: int,
                          timeout: float = 60) -> list[types.Diagnostic]:
    """The diagnostics the server published for this version of the document."""
    async def wait():
        while True:
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
    return await asyncio.wait_for(wait(), timeout)


async def open_document(client: LanguageClient, path: pathlib.Path, text: str | None = None,
                        version: int = 1) -> tuple[str, list[types.Diagnostic]]:
    uri = uri_of(path)
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yibao-policy",
                                             version=version, text=text)))
    return uri, await diagnostics_for(client, uri, version)


async def replace_text(client: LanguageClient, uri: str, text: str, version: int):
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    return await diagnostics_for(client, uri, version)


def position_of(text: str, needle: str, offset: int = 0) -> types.Position:
    """The LSP position (UTF-16) of ``needle``'s first occurrence, plus ``offset`` characters."""
    before = text[: text.index(needle) + offset]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1:]
    return types.Position(line=line, character=len(column.encode("utf-16-le")) // 2)
