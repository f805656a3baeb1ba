"""Konnect's front door in isolation: bearer tokens and the per-key token bucket (no real time involved)."""

from __future__ import annotations

from kongformance.konnect.guard import RateLimiter, bearer_token, token_policy


def test_a_bucket_allows_its_rate_then_says_how_long_to_wait_and_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2, now=lambda: now[0])
    assert [limiter.retry_after("a") for _ in range(3)] == [None, None, 1]
    assert limiter.retry_after("b") is None  # each key has its own bucket
    now[0] = 0.5
    assert limiter.retry_after("a") is None  # half a second refills one request at 2/s
    assert limiter.retry_after("a") == 1


def test_a_rate_of_zero_never_limits() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.retry_after("k") is None for _ in range(1000))


def test_only_a_bearer_authorization_yields_a_token() -> None:
    assert bearer_token([(b"authorization", b"Bearer kpat_abc")]) == "kpat_abc"
    assert bearer_token([(b"Authorization", b"bearer   spat_x ")]) == "spat_x"
    assert bearer_token([(b"authorization", b"Basic a3BhdA==")]) is None
    assert bearer_token([(b"authorization", b"Bearer ")]) is None
    assert bearer_token([]) is None


def test_the_default_policy_takes_personal_and_system_account_tokens_only() -> None:
    accepts = token_policy()
    assert accepts("kpat_abc") and accepts("spat_abc")
    assert not accepts("kpat_") and not accepts("abc") and not accepts("pat_abc")
    listed = token_policy(["kpat_only"])
    assert listed("kpat_only") and not listed("kpat_other")
