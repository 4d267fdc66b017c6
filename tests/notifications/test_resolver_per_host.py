"""A name lookup that hangs keeps its thread (getaddrinfo cannot be stopped), so each host may
have one lookup in flight: a second send to a host whose lookup still hangs fails at once as
transient, and one slow domain cannot take every lookup thread from the other hosts."""

import socket
import threading
import time

import pytest

from notifications import channels

SLOW = "slow.example"


@pytest.fixture
def hanging_dns(monkeypatch):
    """getaddrinfo that hangs for SLOW (until the test ends) and answers for anything else."""
    release = threading.Event()
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host.lower().rstrip(".") == SLOW:
            release.wait(10)
        return real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(channels, "_RESOLVERS", None)  # a pool of this test's own
    yield asked
    release.set()


def resolve(host: str, seconds: float) -> list[str]:
    return channels.resolve_within(host, 443, channels._Deadline(seconds), allow_private=True)


def test_a_host_whose_lookup_hangs_gets_no_second_thread(hanging_dns):
    with pytest.raises(channels.Transient, match="time allowed"):
        resolve(SLOW, 0.05)
    started = time.monotonic()
    for spelling in [SLOW, SLOW.upper(), SLOW + "."]:
        with pytest.raises(channels.Transient):
            resolve(spelling, 1)
    assert time.monotonic() - started < 0.5  # refused at once, not after waiting
    assert len(hanging_dns) == 1


def test_one_slow_domain_cannot_take_the_lookup_threads_of_the_others(hanging_dns):
    for _ in range(12):
        with pytest.raises(channels.Transient):
            resolve(SLOW, 0.02)
    assert resolve("fast.example", 2) == ["127.0.0.1"]
