"""The single sign-on rule on two factors: only an ID token whose ``amr`` holds ``mfa`` (RFC 8176) says the issuer
checked two factors. (Matching people is proven through the whole flow in ``tests/web/test_oidc.py``.)"""

from __future__ import annotations

import pytest

from services.web.oidc_match import issuer_checked_two_factors


@pytest.mark.parametrize(("amr", "checked"), [
    (["pwd", "mfa"], True),
    (["mfa"], True),
    (["pwd"], False),
    (["pwd", "otp"], False),  # two methods, but the issuer does not say it counted them as two factors
    ("mfa", False),  # not a JSON array (OpenID Connect Core 1.0 §2)
    (None, False),
])
def test_only_an_amr_that_holds_mfa_counts_as_two_factors(amr: object, checked: bool) -> None:
    # Given ID token claims with this amr, Then the issuer counts as having checked two factors only with "mfa"
    claims = {"sub": "person-1"} if amr is None else {"sub": "person-1", "amr": amr}
    assert issuer_checked_two_factors(claims) is checked
