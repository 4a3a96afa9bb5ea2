"""The Python baseline of scim-client's `users` benchmark: scim2-client (python-scim,
PyPI `scim2-client[httpx2]`) creating and listing users against the same emulator.

Usage: python scim2_client_bench.py BASE_URL TOKEN USERS CONCURRENCY
Prints one JSON object: wall seconds, process CPU seconds and request counts per phase.
"""

import asyncio
import json
import sys
import time

from httpx2 import AsyncClient, Limits
from scim2_client.engines.httpx2 import AsyncSCIMClient
from scim2_models import Email, Name, SearchRequest, User


async def main(base, token, users, concurrency):
    limits = Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=60) as http:
        scim = AsyncSCIMClient(http)
        await scim.discover()
        gate = asyncio.Semaphore(concurrency)

        async def create(i):
            async with gate:
                user = User(
                    user_name=f"py{i:06d}@example.com",
                    name=Name(given_name=f"Given{i}", family_name=f"Family{i}"),
                    display_name=f"User {i}",
                    title="Engineer",
                    active=True,
                    emails=[Email(value=f"py{i:06d}@example.com", type="work", primary=True)],
                )
                await scim.create(user)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(create(i) for i in range(users)))
        create = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "requests": users}

        page = 100
        pages = (users + page - 1) // page
        seen = 0

        async def fetch(p):
            nonlocal seen
            async with gate:
                result = await scim.query(User, query_parameters=SearchRequest(start_index=1 + p * page, count=page))
                seen += len(result.resources or [])

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(fetch(p) for p in range(pages)))
        listing = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "requests": pages, "users": seen}
    print(json.dumps({"create": create, "list": listing}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
