"""What made a view: yibao's version, the policy text, the claims file, the time.

An auditor who files a printed explanation or a graph must be able to say
which engine, which policy text and which claims produced it (issue 24 item
11).  The policy is identified by the SHA-256 of its source text as the loader
read it (``Policy.source_sha256``, the hash the audit chain records too), the
claims file by its name and the SHA-256 of its bytes as given (``sha256sum``
of the file reproduces it).

The time is now, in UTC, unless ``SOURCE_DATE_EPOCH`` is set: the
reproducible-builds convention (reproducible-builds.org/specs/source-date-epoch),
so tests, snapshots and rebuilt documents carry a fixed time and do not churn.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import pathlib

import attrs

from yibao import __version__
from yibao.dsl.model import Policy

TIME_VARIABLE = "SOURCE_DATE_EPOCH"
STDIN = "-"


@attrs.frozen
class Provenance:
    yibao_version: str
    policy_id: str
    policy_sha256: str
    claims_file: str | None          # the file's name; None for a view of the policy alone
    claims_sha256: str | None        # None when the claims came from standard input
    made_at: str                     # ISO 8601, UTC, to the second

    def to_json(self) -> dict:
        return {"yibao_version": self.yibao_version, "policy": self.policy_id,
                "policy_sha256": self.policy_sha256, "claims_file": self.claims_file,
                "claims_sha256": self.claims_sha256, "made_at": self.made_at}

    def words(self, english: bool = False) -> str:
        """One line for a footer: 由 yibao 0.1.0 生成 · 政策 … · 申报文件 … · 时间 …"""
        return " · ".join(self.parts(english))

    def parts(self, english: bool = False) -> list[str]:
        if english:
            parts = [f"Made by yibao {self.yibao_version}",
                     f"policy {self.policy_id} (text SHA-256 {self.policy_sha256})"]
            if self.claims_file is not None:
                parts.append(f"claims {self.claims_file} (SHA-256 {self.claims_sha256 or '—'})")
            parts.append(f"at {self.made_at}")
        else:
            parts = [f"由 yibao {self.yibao_version} 生成",
                     f"政策 {self.policy_id}（文本 SHA-256 {self.policy_sha256}）"]
            if self.claims_file is not None:
                parts.append(f"申报文件 {self.claims_file}（SHA-256 {self.claims_sha256 or '—'}）")
            parts.append(f"时间 {self.made_at}")
        return parts


def provenance(policy: Policy, claims: str | pathlib.Path | None = None) -> Provenance:
    """The provenance of a view of ``policy`` (the version drawn or that settled the claim)."""
    name = digest = None
    if claims is not None:
        name = STDIN if str(claims) == STDIN else pathlib.Path(claims).name
        if name != STDIN:
            digest = file_sha256(claims)
    return Provenance(__version__, policy.policy_id, policy.source_sha256, name, digest,
                      made_at())


def file_sha256(path: str | pathlib.Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def made_at() -> str:
    fixed = os.environ.get(TIME_VARIABLE)
    if fixed is not None and fixed.strip().isdigit():
        moment = datetime.datetime.fromtimestamp(int(fixed), datetime.timezone.utc)
    else:
        moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
