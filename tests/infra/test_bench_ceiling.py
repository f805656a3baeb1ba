"""The issuer benchmark's arithmetic of what the throughput target asks (bench/ceiling.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from ceiling import Loaded, ceiling, describe  # noqa: E402


def test_needed_cpu_per_token_is_the_emulators_cores_over_the_target_rate() -> None:
    emulator = Loaded(tokens_per_second=7000, cpu_per_token=250e-6, generator_cores=0.05)  # 1.75 cores
    reference = Loaded(tokens_per_second=5000, cpu_per_token=340e-6, generator_cores=0.04)
    c = ceiling(emulator, reference, signature=200e-6, cores=2)
    assert c.needed_cpu_per_token == pytest.approx(1.75 / 7500)
    assert c.ceiling_tokens_per_second == pytest.approx(1.95 / 200e-6)
    assert c.ceiling_ratio == pytest.approx(1.95 / 200e-6 / 5000)


def test_describe_prints_the_numbers_it_was_given() -> None:
    emulator = Loaded(7000, 250e-6, 0.05)
    reference = Loaded(5000, 340e-6, 0.04)
    lines = describe(ceiling(emulator, reference, 200e-6, 2), emulator, reference, 200e-6, 2)
    assert "oidc-provider used 1.70 of 2 cores, the emulator 1.75" in lines[0]
    assert "needs <= 233 us CPU per token = 1.17x" in lines[1] and "(measured 250 us = 1.25x)" in lines[1]
    assert "9750 tokens/s = 1.95x oidc-provider" in lines[2]


@pytest.mark.parametrize(("rate", "signature"), [(0.0, 200e-6), (5000.0, 0.0)])
def test_refuses_a_reference_without_tokens_or_a_free_signature(rate: float, signature: float) -> None:
    with pytest.raises(ValueError):
        ceiling(Loaded(7000, 250e-6, 0.05), Loaded(rate, 340e-6, 0.04), signature, 2)
