"""merkle.py against the RFC 9162 definitions, published vectors, and tampering."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.ledger import merkle

# ---- an independent implementation, written from RFC 9162 sections 2.1.1 to 2.1.4.1 only ----


class Reference:
    """MTH, PATH and PROOF by their recursive definitions over D[start:end]."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.mth = cache(self._mth)

    @staticmethod
    def k(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(b"\x00" + self.leaves[start]).digest()
        k = self.k(n)
        return hashlib.sha256(
            b"\x01" + self.mth(start, start + k) + self.mth(start + k, end)
        ).digest()

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = self.k(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = self.k(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)


LEAVES = [i.to_bytes(2, "big") + b"leaf" * (i % 3) for i in range(301)]
REF = Reference(LEAVES)
NODES = merkle.subtree_nodes([merkle.leaf_hash(leaf) for leaf in LEAVES])


def tampered(proof: list[bytes]) -> list[list[bytes]]:
    """Every small corruption of a proof that a verifier must reject."""
    out: list[list[bytes]] = [[*proof, proof[-1]] if proof else [b"\x00" * 32]]
    out.append([b"\x00" * 32, *proof])
    if proof:
        out.append(proof[:-1])
        out.append(proof[1:])
    for i, element in enumerate(proof):
        flipped = bytes([element[0] ^ 1]) + element[1:]
        out.append([*proof[:i], flipped, *proof[i + 1 :]])
    if len(proof) > 1:
        out.append([proof[1], proof[0], *proof[2:]])
    return out


# ---- published vectors (RFC 6962 test data, as used by every CT implementation) ----

CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H96, H5F, H6B = (
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    ("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
)
HBC = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H0E = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"


def test_published_roots() -> None:
    for n, root in enumerate(CT_ROOTS):
        assert merkle.root_hash(CT_LEAVES[:n]).hex() == root
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]


@pytest.mark.parametrize(
    ("index", "size", "proof"),
    [
        (0, 8, [H96, H5F, H6B]),
        (5, 8, [HBC, HCA, CT_ROOTS[4]]),
        (2, 3, [CT_ROOTS[2]]),
        (1, 5, [CT_ROOTS[1], H5F, HBC]),
    ],
)
def test_published_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    got = merkle.inclusion_proof(CT_LEAVES[:size], index)
    assert [p.hex() for p in got] == proof
    root = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(CT_LEAVES[index], index, size, got, root)


@pytest.mark.parametrize(
    ("old", "new", "proof"),
    [(1, 8, [H96, H5F, H6B]), (6, 8, [H0E, HCA, CT_ROOTS[4]]), (2, 5, [H5F, HBC])],
)
def test_published_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    got = merkle.consistency_proof(CT_LEAVES[:new], old)
    assert [p.hex() for p in got] == proof
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert merkle.verify_consistency(old, new, old_root, new_root, got)


# ---- exhaustive agreement with the reference, every size 0..300 ----


def test_roots_every_size() -> None:
    for n in range(len(LEAVES) + 1):
        assert merkle.root_hash(LEAVES[:n]) == REF.mth(0, n)
        assert merkle.root_from_nodes(NODES, n) == REF.mth(0, n)


def test_inclusion_every_leaf_of_every_size() -> None:
    for n in range(1, len(LEAVES) + 1):
        root = REF.mth(0, n)
        for i in range(n):
            proof = merkle.inclusion_proof_from_nodes(NODES, i, n)
            assert proof == REF.path(i, 0, n)
            assert merkle.verify_inclusion(LEAVES[i], i, n, proof, root)
            assert not merkle.verify_inclusion(LEAVES[i], i, n, proof, REF.mth(0, n - 1))
            if i + 1 < n:
                assert not merkle.verify_inclusion(LEAVES[i], i + 1, n, proof, root)
                assert not merkle.verify_inclusion(LEAVES[i + 1], i, n, proof, root)


def test_consistency_every_pair_of_sizes() -> None:
    for n in range(len(LEAVES) + 1):
        new_root = REF.mth(0, n)
        for m in range(n + 1):
            proof = merkle.consistency_proof_from_nodes(NODES, m, n)
            assert proof == ([] if m in (0, n) else REF.proof(m, n))
            assert merkle.verify_consistency(m, n, REF.mth(0, m), new_root, proof)
            if 0 < m < n:
                assert not merkle.verify_consistency(m, n, new_root, REF.mth(0, m), proof)
                assert not merkle.verify_consistency(m - 1, n, REF.mth(0, m - 1), new_root, proof)


def test_leaf_api_matches_node_api_on_small_trees() -> None:
    for n in range(1, 40):
        for i in range(n):
            assert merkle.inclusion_proof(LEAVES[:n], i) == REF.path(i, 0, n)
        for m in range(n + 1):
            assert merkle.consistency_proof(LEAVES[:n], m) == (
                [] if m in (0, n) else REF.proof(m, n)
            )


def test_stored_nodes_needed_are_logarithmic() -> None:
    size = 10_000_000
    for index in (0, 1, 4_999_999, 9_999_998, 9_999_999):
        assert len(merkle.inclusion_nodes(index, size)) <= 2 * size.bit_length()
    for old in (1, 3, 4_194_304, 9_999_999):
        assert len(merkle.consistency_nodes(old, size)) <= 2 * size.bit_length()
    assert len(merkle.root_nodes(size)) == bin(size).count("1")


# ---- random sizes up to a few thousand, and tampering ----


@st.composite
def tree_and_leaf(draw: Any) -> tuple[list[bytes], int]:
    n = draw(st.integers(1, 3000))
    seed = draw(st.binary(max_size=4))
    return [seed + i.to_bytes(4, "big") for i in range(n)], draw(st.integers(0, n - 1))


@settings(max_examples=40, deadline=None)
@given(tree_and_leaf())
def test_inclusion_random_sizes(case: tuple[list[bytes], int]) -> None:
    leaves, index = case
    n = len(leaves)
    ref = Reference(leaves)
    root = merkle.root_hash(leaves)
    assert root == ref.mth(0, n)
    proof = merkle.inclusion_proof(leaves, index)
    assert proof == ref.path(index, 0, n)
    assert merkle.verify_inclusion(leaves[index], index, n, proof, root)
    for bad in tampered(proof):
        assert not merkle.verify_inclusion(leaves[index], index, n, bad, root)
    bad_root = bytes([root[0] ^ 0x80]) + root[1:]
    assert not merkle.verify_inclusion(leaves[index], index, n, proof, bad_root)
    assert not merkle.verify_inclusion(leaves[index] + b"x", index, n, proof, root)
    for other in {index ^ 1, index ^ 2, index + 1, n}:
        if other != index:
            assert not merkle.verify_inclusion(leaves[index], other, n, proof, root)
    # Not n + 1: a proof can be valid for two sizes (the signed head binds the size), as in
    # the CT reference tests, which also probe only double and half the size.
    for other_size in {n * 2, n // 2}:
        if other_size != n:
            assert not merkle.verify_inclusion(leaves[index], index, other_size, proof, root)


@settings(max_examples=40, deadline=None)
@given(tree_and_leaf())
def test_consistency_random_sizes(case: tuple[list[bytes], int]) -> None:
    leaves, old = case
    n = len(leaves)
    ref = Reference(leaves)
    old_root, new_root = ref.mth(0, old), ref.mth(0, n)
    proof = merkle.consistency_proof(leaves, old)
    assert merkle.verify_consistency(old, n, old_root, new_root, proof)
    if old == 0:
        return
    assert proof == ref.proof(old, n)
    for bad in tampered(proof):
        assert not merkle.verify_consistency(old, n, old_root, new_root, bad)
    assert not merkle.verify_consistency(old, n, new_root, old_root, proof)
    assert not merkle.verify_consistency(old, n, old_root, old_root, proof)
    assert not merkle.verify_consistency(old + 1, n, old_root, new_root, proof)
    assert not merkle.verify_consistency(old, n * 2, old_root, new_root, proof)
    assert not merkle.verify_consistency(old, n, old_root, new_root, [])


# ---- bad input: False from verifiers, ValueError from producers, never anything else ----

H = b"\x11" * 32
GARBAGE: list[Any] = [None, "abc", -1, 1.5, True, b"short", [b"x"], {"a": 1}, 2**70]


@pytest.mark.parametrize("value", GARBAGE)
def test_verifiers_reject_garbage_in_any_argument(value: Any) -> None:
    good = (b"leaf", 0, 1, [], merkle.leaf_hash(b"leaf"))
    assert merkle.verify_inclusion(*good)
    for position in range(5):
        args = list(good)
        args[position] = value
        assert merkle.verify_inclusion(*args) is False
        assert merkle.verify_inclusion_hash(*args) is False
    root1 = merkle.root_hash(LEAVES[:1])
    good_c = (1, 1, root1, root1, [])
    assert merkle.verify_consistency(*good_c)
    for position in range(5):
        args = list(good_c)
        args[position] = value
        assert merkle.verify_consistency(*args) is False
    assert merkle.verify_inclusion(b"leaf", 0, 1, [value], merkle.leaf_hash(b"leaf")) is False


def test_verifier_edge_cases() -> None:
    assert not merkle.verify_inclusion(b"a", 0, 0, [], merkle.EMPTY_ROOT)
    assert not merkle.verify_inclusion(b"a", 1, 1, [], merkle.leaf_hash(b"a"))
    assert not merkle.verify_consistency(2, 1, H, H, [])
    assert not merkle.verify_consistency(0, 5, H, H, [])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, H, [])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, H, [H])
    assert not merkle.verify_consistency(3, 3, H, H, [H])
    assert not merkle.verify_inclusion(b"a", 0, 2**64, [H] * 10_000, H)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: merkle.root_hash([b"a", "b"]), "leaf 1 is str"),  # type: ignore[list-item]
        (lambda: merkle.root_hash(b"ab"), "list of bytes"),  # type: ignore[arg-type]
        (lambda: merkle.root_hash(None), "list of bytes"),  # type: ignore[arg-type]
        (lambda: merkle.inclusion_proof([b"a"], 1), "outside a tree of size 1"),
        (lambda: merkle.inclusion_proof([], 0), "outside a tree of size 0"),
        (lambda: merkle.inclusion_proof([b"a"], -1), "non-negative integer"),
        (lambda: merkle.inclusion_proof([b"a"], "0"), "non-negative integer"),  # type: ignore[arg-type]
        (lambda: merkle.consistency_proof([b"a"], 2), "larger than new size"),
        (lambda: merkle.consistency_proof([b"a"], -1), "non-negative"),
        (lambda: merkle.consistency_ranges(3, 3), "0 < old size < new size"),
        (lambda: merkle.range_nodes(4, 4), "not a leaf range"),
    ],
)
def test_producers_raise_value_error(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
