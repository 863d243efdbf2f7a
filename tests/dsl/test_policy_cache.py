"""The loaded policy chain kept between runs (dsl/policy_cache.py): a chain read from
the cache is the chain the loader gives, a changed text or folder is loaded again,
and a damaged or foreign file is never used (nor run)."""

from __future__ import annotations

import pickle
import shutil

import pytest

from helpers import POLICIES
from yibao.core.diagnostics import PolicyError
from yibao.dsl import loader, policy_cache
from yibao.dsl.loader import load_policy
from yibao.dsl.policy_cache import load_policy_cached


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "policies"


@pytest.fixture
def folder(tmp_path):
    """Jiamusi's two versions (2022 extends 2021) and their notice, in a folder of their own."""
    policies = tmp_path / "policies"
    (policies / "notices").mkdir(parents=True)
    for name in ("jiamusi-2021.policy", "jiamusi-2022.policy", "notices/jiamusi-2021.txt"):
        shutil.copy(POLICIES / name, policies / name)
    return policies


def _no_loading(monkeypatch):
    """From here on the loader fails: a chain can only come from the cache."""
    def refuse(path):
        raise AssertionError(f"{path} was parsed and checked again")
    monkeypatch.setattr(loader, "load_chain", refuse)


def test_a_chain_from_the_cache_is_the_chain_loaded(cache, folder, monkeypatch):
    path = folder / "jiamusi-2022.policy"
    loaded = load_policy(path)
    assert load_policy_cached(path) == loaded                 # loaded, and kept
    assert len(list(cache.glob("*.pickle"))) == 1
    _no_loading(monkeypatch)
    again = load_policy_cached(path)
    assert again == loaded and again.sources == loaded.sources
    assert [v.policy_id for v in again.versions] == ["jiamusi-2021", "jiamusi-2022"]


@pytest.mark.parametrize("edited", ["jiamusi-2022.policy", "jiamusi-2021.policy"])
def test_an_edited_text_of_the_chain_is_loaded_again(cache, folder, edited):
    path = folder / "jiamusi-2022.policy"
    before = load_policy_cached(path)
    with open(folder / edited, "a", encoding="utf-8") as out:
        out.write("# edited after the run before\n")
    after = load_policy_cached(path)
    assert after == load_policy(path) and after.sources != before.sources


def test_a_predecessor_that_goes_away_is_noticed(cache, folder):
    path = folder / "jiamusi-2022.policy"
    assert len(load_policy_cached(path).versions) == 2
    (folder / "jiamusi-2021.policy").unlink()
    # What the loader says now: 2022 alone names 脱贫人口, which only 2021 declares.
    with pytest.raises(PolicyError) as refused:
        load_policy_cached(path)
    assert refused.value.diagnostics[0].code == "S203"


def test_notice_warnings_are_this_runs(cache, folder, monkeypatch):
    path = folder / "jiamusi-2022.policy"
    assert load_policy_cached(path).warnings == ()
    (folder / "notices" / "jiamusi-2021.txt").unlink()
    expected = load_policy(path).warnings
    _no_loading(monkeypatch)
    warnings = load_policy_cached(path).warnings
    # Both versions cite the notice, which cannot be read now: said again, for each.
    assert warnings == expected and [w.code for w in warnings] == ["S250", "S250"]


@pytest.mark.parametrize("damage", ["cut", "flipped", "other format"])
def test_a_damaged_file_is_ignored_and_written_again(cache, folder, damage):
    path = folder / "jiamusi-2022.policy"
    loaded = load_policy_cached(path)
    entry = next(cache.glob("*.pickle"))
    data = entry.read_bytes()
    entry.write_bytes({"cut": data[:len(data) // 2],
                       "flipped": data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:],
                       "other format": b"yibao-policy-cache/0\n" + data[21:]}[damage])
    assert load_policy_cached(path) == loaded
    assert entry.read_bytes() == data            # made again, whole


def test_a_foreign_pickle_is_never_run(cache, folder, tmp_path):
    path = folder / "jiamusi-2022.policy"
    loaded = load_policy_cached(path)
    entry = next(cache.glob("*.pickle"))
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (shutil.copy, (str(path), str(marker)))

    # A file with the right digest of a pickle that would call another module's code.
    body = pickle.dumps({"chain": Payload(), "loaded": None, "checked": []})
    entry.write_bytes(policy_cache.FORMAT + policy_cache.hashlib.sha256(body).hexdigest().encode()
                      + body)
    assert load_policy_cached(path) == loaded
    assert not marker.exists()


def test_a_chain_that_does_not_load_is_not_kept(cache, folder):
    path = folder / "jiamusi-2022.policy"
    path.write_text(path.read_text(encoding="utf-8") + "\nnot a policy {\n", encoding="utf-8")
    for _ in range(2):                              # the loader's diagnostics, every time
        with pytest.raises(PolicyError):
            load_policy_cached(path)
    assert not list(cache.glob("*.pickle"))


def test_no_cache_when_off_or_unwritable(tmp_path, folder, monkeypatch):
    path = folder / "jiamusi-2022.policy"
    monkeypatch.setenv("YIBAO_CACHE_DIR", "off")
    assert load_policy_cached(path) == load_policy(path)
    blocker = tmp_path / "a file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("YIBAO_CACHE_DIR", str(blocker))      # its "policies" cannot be made
    assert load_policy_cached(path) == load_policy(path)
