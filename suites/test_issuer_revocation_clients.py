"""Kong Identity's revocation endpoint and the client that asks (RFC 7009 2.1): a client may revoke only the
tokens issued to it; another client's request leaves the token active."""

from __future__ import annotations

import pytest
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import ProfileHandles


@pytest.mark.requirement("RFC7009-2.1-own-tokens-only")
def test_a_client_cannot_revoke_a_token_issued_to_another_client(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """RFC 7009 2.1 (https://www.rfc-editor.org/rfc/rfc7009#section-2.1): the server verifies that the token
    was issued to the requesting client; if not, the request is refused and the token stays active."""
    owner, other, gw = (kf_profile.clients[name] for name in ("labelled", "default", "gateway"))
    assert owner.id != other.id
    token = tokens.access_token("labelled")
    answer = issuer.revoke(token, other.id, other.secret)
    assert issuer.introspect(token, gw.id, gw.secret).body["active"] is True, (
        f"another client's revocation request (status {answer.status}) revoked the token"
    )
