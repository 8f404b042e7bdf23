"""Locust load test of the relay's REST API, equivalent to the old system's locustfile.

Each simulated user launches a SCUD-C from 36.5N 123.1W (off the coast of central California)
at Los Angeles (34.05N 118.25W) with the old call, ``POST /launch`` and its query parameters,
and checks that the relay answered ``status: launched`` with a missile id. Now and then it
also reads the missile catalog, as the app does when it starts.

Run it against a relay on this machine (the load goes to the relay's public room)::

    locust -f deploy/locust/locustfile.py --host http://127.0.0.1:8080
    locust -f deploy/locust/locustfile.py --host http://127.0.0.1:8080 \
        --headless --users 20 --spawn-rate 5 --run-time 30s

or in the full mode: ``docker compose --profile load up`` (master on port 8089, three
workers, aimed at relay1). The host must be this machine or one of the compose relays: the
test refuses to start against anything else.
"""

import logging
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

# The old locustfile's launch: 36.5N 123.1W at Los Angeles.
LAUNCH = {
    "lat": 36.5,
    "lon": -123.1,
    "targetLat": 34.05,
    "targetLon": -118.25,
    "missileType": "SCUD-C",
}

ALLOWED_HOSTS = {"127.0.0.1", "localhost", "::1", "relay1", "relay2"}


@events.test_start.add_listener
def only_local_relays(environment, **_kwargs):
    """Refuses to load anything but a relay on this machine (or in the compose network)."""
    host = urlparse(environment.host or "").hostname
    if host in ALLOWED_HOSTS:
        return
    logging.error(
        "refusing to load %r: only %s are allowed", environment.host, ", ".join(sorted(ALLOWED_HOSTS))
    )
    environment.process_exit_code = 2
    if environment.runner is not None:
        environment.runner.quit()


class Launcher(HttpUser):
    """One operator launching SCUD-Cs at Los Angeles, one to three seconds apart."""

    wait_time = between(1, 3)

    @task(10)
    def launch(self):
        with self.client.post(
            "/launch", params=LAUNCH, name="/launch", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            body = response.json()
            if body.get("status") != "launched" or not body.get("missile_id"):
                response.failure(f"unexpected answer: {response.text[:200]}")

    @task(1)
    def missile_types(self):
        self.client.get("/api/missile-types", name="/api/missile-types")
