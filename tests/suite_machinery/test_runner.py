"""``kongformance run`` and ``kongformance config`` (issue 4, Deliver 2)."""

from __future__ import annotations

import argparse

import yaml

from kongformance import runner, runner_config


def _run_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_maps_its_options_to_pytest_options() -> None:
    args = _run_args(
        "--target", "external", "-n", "auto", "--db-less", "--hypothesis-profile", "ci", "--", "-k", "bearer"
    )
    assert runner.pytest_arguments(args) == [
        "suites",
        "-p",
        "no:cacheprovider",
        "--kf-target",
        "external",
        "--kf-db-less",
        "-n",
        "auto",
        "--kf-hypothesis-profile",
        "ci",
        "-k",
        "bearer",
    ]


def test_config_prints_a_deck_file_with_env_placeholders() -> None:
    parser = argparse.ArgumentParser()
    runner_config.add_arguments(parser)
    doc = yaml.safe_load(runner_config.render(parser.parse_args([])))
    assert doc["_format_version"] == "3.0"
    oidc = next(
        p for s in doc["services"] for r in s["routes"] for p in r["plugins"] if p["name"] == "openid-connect"
    )
    assert oidc["config"]["issuer"] == '${{ env "DECK_ISSUER_URL" }}'


def test_config_uses_the_given_issuer_and_can_leave_out_db_only_routes() -> None:
    parser = argparse.ArgumentParser()
    runner_config.add_arguments(parser)
    text = runner_config.render(
        parser.parse_args(["--issuer", "https://x.us.identity.konghq.com/auth", "--db-less"])
    )
    doc = yaml.safe_load(text)
    names = {r["name"] for s in doc["services"] for r in s["routes"]}
    assert "kf-oauth2" not in names and "kf-oidc-bearer" in names
    assert "https://x.us.identity.konghq.com/auth/introspect" in text
