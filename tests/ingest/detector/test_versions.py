"""Pre-releases: any SemVer pre-release part, PEP 440 pre-releases, keywords for tags that are not SemVer."""

from __future__ import annotations

import pytest

from services.ingest.detector.versions import bare_version, is_prerelease, plain_version


@pytest.mark.parametrize("tag", ["1.4.0-next.2", "v3.5.0-experimental", "2.0.0-insiders", "1.2.3-snapshot",
                                 "2.0.0-M1", "v1.0.0-alpha", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "4.1.0-whatever+build.5",
                                 "python-v2.0.0-preview.1"])
def test_any_semver_pre_release_part_is_a_pre_release(tag: str) -> None:
    # Given a SemVer tag with a pre-release part (a hyphen after X.Y.Z), keyword or not, Then it is one
    assert is_prerelease(tag)


@pytest.mark.parametrize("tag", ["3.15.0rc1", "v0.28.0b2", "1.0a1", "1.0.dev3", "v2.0.0rc2"])
def test_pep_440_pre_releases_are_pre_releases(tag: str) -> None:
    assert is_prerelease(tag)


@pytest.mark.parametrize("tag", ["nightly-2026-08-20", "canary", "v1.2-beta", "1.4 preview", "release-edge-7"])
def test_keywords_mark_pre_releases_among_tags_that_are_not_semver(tag: str) -> None:
    assert is_prerelease(tag)


@pytest.mark.parametrize("tag", ["v2.0.0", "1.2.3+build.7", "2026.8.18", "python-v2.9.3", "v1.0", "Release 2026.8.18"])
def test_stable_tags_are_not_pre_releases(tag: str) -> None:
    assert not is_prerelease(tag)


def test_a_bare_version_title_is_read_without_its_v_and_other_titles_are_not_one() -> None:
    assert (bare_version("2.1.238"), bare_version("v3.4.0"), bare_version(" V1.2 ")) == ("2.1.238", "3.4.0", "1.2")
    assert bare_version("Widget 2.1.238") is None and bare_version("2026") is None
    assert plain_version("python-v2.9.3") == "2.9.3"
