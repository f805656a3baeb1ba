"""What issue 2's throughput target asks of an RS256 issuer, worked out from one run's own measurements.

Both issuers sign every token with one RSA-2048 signature and both are loaded until the machine's cores are
busy, so the throughput ratio is set by CPU per token and by how many cores each issuer gets:

    ratio = (emulator cores / emulator CPU per token) / reference tokens/s

Two numbers follow, printed beside the measured ratio:
- the CPU per token the emulator would have needed, at the cores it used, to reach the target ratio;
- the ceiling: an issuer whose whole token costs exactly one signature (no HTTP, no Python, nothing else),
  using every core the load generator leaves free. No RS256 issuer can beat it on this machine in this run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loaded:
    """One issuer under load: tokens/s, CPU seconds per token, and the load generator's CPU cores meanwhile."""

    tokens_per_second: float
    cpu_per_token: float
    generator_cores: float

    @property
    def cores(self) -> float:
        """CPU cores the issuer used (CPU seconds per wall second)."""
        return self.tokens_per_second * self.cpu_per_token


@dataclass(frozen=True)
class Ceiling:
    target: float
    needed_cpu_per_token: float
    """CPU per token the emulator needed, at the cores it used, for ``target`` x the reference."""
    ceiling_tokens_per_second: float
    """Tokens/s of a one-signature-per-token issuer on every core the load generator leaves."""
    ceiling_ratio: float


def ceiling(
    emulator: Loaded, reference: Loaded, signature: float, cores: int, target: float = 1.5
) -> Ceiling:
    """Work out :class:`Ceiling` from the two loads, one signature's CPU seconds and the machine's cores."""
    if reference.tokens_per_second <= 0 or signature <= 0:
        raise ValueError("the reference's tokens/s and the signature's cost must be positive")
    wanted = target * reference.tokens_per_second
    free_cores = max(cores - emulator.generator_cores, 0.0)
    best = free_cores / signature
    return Ceiling(
        target=target,
        needed_cpu_per_token=emulator.cores / wanted,
        ceiling_tokens_per_second=best,
        ceiling_ratio=best / reference.tokens_per_second,
    )


def describe(c: Ceiling, emulator: Loaded, reference: Loaded, signature: float, cores: int) -> list[str]:
    """Printable lines (numbers, not verdicts)."""
    return [
        f"oidc-provider used {reference.cores:.2f} of {cores} cores, the emulator {emulator.cores:.2f}; "
        f"load generator {emulator.generator_cores:.2f} and {reference.generator_cores:.2f} cores",
        f"{c.target}x oidc-provider = {c.target * reference.tokens_per_second:.0f} tokens/s: at the "
        f"emulator's {emulator.cores:.2f} cores that needs <= {c.needed_cpu_per_token * 1e6:.0f} us CPU per token "
        f"= {c.needed_cpu_per_token / signature:.2f}x one RSA-2048 signature "
        f"(measured {emulator.cpu_per_token * 1e6:.0f} us = {emulator.cpu_per_token / signature:.2f}x)",
        f"ceiling: a token costing one signature and nothing else, on all {cores - emulator.generator_cores:.2f} "
        f"cores the load generator leaves: {c.ceiling_tokens_per_second:.0f} tokens/s = "
        f"{c.ceiling_ratio:.2f}x oidc-provider",
    ]
