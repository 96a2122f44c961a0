"""TLS connections reading into their thread's buffer (``config.tls_buffers``): real TLS on
loopback, many connections sending at once, every byte where it was sent."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import os
import ssl
from asyncio import sslproto
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.tls_buffers import SharedReadBufferProtocol, share_tls_read_buffers

CONNECTIONS = 20
#: Several reads of the shared buffer's size each, so that the connections' reads interleave.
SENT_BYTES = 1024 * 1024


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The buffers shared for this test only: asyncio's own protocol is put back after it."""
    monkeypatch.setattr(sslproto, "SSLProtocol", sslproto.SSLProtocol)
    share_tls_read_buffers()


def _contexts(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cafile=cert_file)
    return server, client


async def _exchange(folder: Path) -> tuple[list[tuple[str, str]], set[int]]:
    """Each client sends its own random bytes at once with the others; the server answers
    each the digest of what it read. The pairs (sent, read) and the ids of the buffers the
    server's connections read into."""
    server_context, client_context = _contexts(folder)
    buffers: set[int] = set()

    async def echo_digest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol = getattr(writer.transport, "_ssl_protocol")  # noqa: B009 (asyncio's own)
        buffers.add(id(protocol._ssl_buffer))
        digest = hashlib.sha256(await reader.readexactly(SENT_BYTES)).hexdigest()
        writer.write(digest.encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo_digest, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]

    async def send() -> tuple[str, str]:
        data = os.urandom(SENT_BYTES)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
        )
        for start in range(0, SENT_BYTES, 64 * 1024):
            writer.write(data[start : start + 64 * 1024])
            await writer.drain()
        answer = (await reader.read()).decode()
        writer.close()
        return hashlib.sha256(data).hexdigest(), answer

    async with server:
        pairs = await asyncio.gather(*(send() for _ in range(CONNECTIONS)))
    return list(pairs), buffers


def test_connections_sending_at_once_each_arrive_whole_through_one_shared_buffer(
    shared: None, tmp_path: Path
) -> None:
    assert sslproto.SSLProtocol is SharedReadBufferProtocol
    pairs, buffers = asyncio.run(_exchange(tmp_path))
    assert all(sent == read for sent, read in pairs)
    assert len(buffers) == 1


def test_an_asyncio_that_reads_otherwise_keeps_its_own_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ReadsOtherwise(sslproto.SSLProtocol):
        def get_buffer(self, n: int) -> memoryview:
            return memoryview(bytearray(n))

    monkeypatch.setattr(sslproto, "SSLProtocol", ReadsOtherwise)
    assert not share_tls_read_buffers()
    assert sslproto.SSLProtocol is ReadsOtherwise
