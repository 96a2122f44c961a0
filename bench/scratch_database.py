"""The benchmarks' scratch PostgreSQL databases: one statement on the server's admin
connection (CREATE or DROP DATABASE cannot run inside a transaction or a pool)."""

from __future__ import annotations


async def run_admin_statement(server: str, statement: str) -> None:
    import asyncpg  # only the PostgreSQL runs need it

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
