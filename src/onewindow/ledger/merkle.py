"""Merkle tree hashing, inclusion and consistency proofs as in RFC 9162 (CT 2.0), section 2.1.

Pure: no I/O. Two layers of functions:

* on raw leaf inputs (`root_hash`, `inclusion_proof`, `verify_inclusion`, `consistency_proof`,
  `verify_consistency`): what a verifier holding whole documents or a small log uses;
* on hashes (`*_hash`, `*_nodes`, `*_from_nodes`): what storage uses. A stored log keeps the hash
  of every complete, aligned subtree under a `NodeKey` (level, position): level 0 is the leaf
  hash of entry `position`, level L covers leaves [position * 2**L, (position + 1) * 2**L).
  Any proof then needs only O(log n) of those nodes.

Producers raise ValueError on impossible arguments. Verifiers never raise: anything malformed
(wrong sizes, wrong proof length, hashes of the wrong size, non-bytes) is simply not a proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"

NodeKey = tuple[int, int]  # (level, position)
Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _check_leaves(leaves: object) -> list[bytes]:
    if not isinstance(leaves, Sequence) or isinstance(leaves, (bytes, str)):
        raise ValueError("leaves must be a list of bytes")
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes):
            raise ValueError(f"leaf {i} is {type(leaf).__name__}, not bytes")
    return list(leaves)


def _check_index(index: object, size: int, name: str = "index") -> int:
    if not _is_size(index):
        raise ValueError(f"{name} must be a non-negative integer, not {index!r}")
    assert isinstance(index, int)
    if index >= size:
        raise ValueError(f"{name} {index} is outside a tree of size {size}")
    return index


# ---- tree shape: which ranges make up a proof, and which stored nodes make up a range ----


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose subtree hashes form PATH(index, D[size]), in proof order."""
    _check_index(index, size)
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # PATH lists the deepest sibling first
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose subtree hashes form PROOF(old_size, D[new_size]) (0 < old < new)."""
    if not (_is_size(old_size) and _is_size(new_size) and 0 < old_size < new_size):
        raise ValueError(
            f"a consistency proof needs 0 < old size < new size, got {old_size!r} and {new_size!r}"
        )
    ranges: list[Range] = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    ranges.reverse()  # SUBPROOF lists the deepest part first
    return ranges


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """The stored nodes from which MTH(D[start:end]) is computed (start < end)."""
    if not (_is_size(start) and _is_size(end) and start < end):
        raise ValueError(f"not a leaf range: [{start!r}, {end!r})")
    keys: list[NodeKey] = []
    stack = [(start, end)]
    while stack:
        a, b = stack.pop()
        n = b - a
        level = n.bit_length() - 1
        if n == 1 << level and a % n == 0:
            keys.append((level, a >> level))
        else:
            k = _split(n)
            stack.append((a + k, b))
            stack.append((a, a + k))
    return keys


def range_hash_from_nodes(nodes: Mapping[NodeKey, bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) from stored nodes; KeyError names a node that was not supplied."""
    n = end - start
    level = n.bit_length() - 1
    if n == 1 << level and start % n == 0:
        return nodes[(level, start >> level)]
    k = _split(n)
    return node_hash(
        range_hash_from_nodes(nodes, start, start + k),
        range_hash_from_nodes(nodes, start + k, end),
    )


def root_nodes(size: int) -> list[NodeKey]:
    """The complete subtrees whose hashes give the root of a tree of `size` leaves."""
    return range_nodes(0, size) if size else []


def inclusion_nodes(index: int, size: int) -> set[NodeKey]:
    return {key for a, b in inclusion_ranges(index, size) for key in range_nodes(a, b)}


def consistency_nodes(old_size: int, new_size: int) -> set[NodeKey]:
    return {key for a, b in consistency_ranges(old_size, new_size) for key in range_nodes(a, b)}


def root_from_nodes(nodes: Mapping[NodeKey, bytes], size: int) -> bytes:
    return range_hash_from_nodes(nodes, 0, size) if size else EMPTY_ROOT


def inclusion_proof_from_nodes(
    nodes: Mapping[NodeKey, bytes], index: int, size: int
) -> list[bytes]:
    return [range_hash_from_nodes(nodes, a, b) for a, b in inclusion_ranges(index, size)]


def consistency_proof_from_nodes(
    nodes: Mapping[NodeKey, bytes], old_size: int, new_size: int
) -> list[bytes]:
    if old_size == new_size or old_size == 0:
        _check_sizes(old_size, new_size)
        return []
    return [range_hash_from_nodes(nodes, a, b) for a, b in consistency_ranges(old_size, new_size)]


def _check_sizes(old_size: object, new_size: object) -> None:
    if not (_is_size(old_size) and _is_size(new_size)):
        raise ValueError(f"tree sizes must be non-negative integers: {old_size!r}, {new_size!r}")
    assert isinstance(old_size, int) and isinstance(new_size, int)
    if old_size > new_size:
        raise ValueError(f"old size {old_size} is larger than new size {new_size}")


# ---- building trees from a full list of leaf hashes ----


def subtree_nodes(hashes: Sequence[bytes]) -> dict[NodeKey, bytes]:
    """Every complete aligned subtree of a list of leaf hashes, as storage keeps them."""
    nodes: dict[NodeKey, bytes] = {}
    level_hashes = list(hashes)
    level = 0
    while level_hashes:
        for position, value in enumerate(level_hashes):
            nodes[(level, position)] = value
        level_hashes = [
            node_hash(level_hashes[i], level_hashes[i + 1])
            for i in range(0, len(level_hashes) - 1, 2)
        ]
        level += 1
    return nodes


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, in one pass: a stack of complete subtrees, folded from the right."""
    stack: list[tuple[int, bytes]] = []  # (leaf count, hash); counts strictly decrease
    for value in hashes:
        count, current = 1, value
        while stack and stack[-1][0] == count:
            left = stack.pop()[1]
            count, current = count * 2, node_hash(left, current)
        stack.append((count, current))
    if not stack:
        return EMPTY_ROOT
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


# ---- the API on raw leaf inputs ----


def root_hash(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of the raw leaf inputs; the empty tree's root is SHA-256 of nothing."""
    return root_from_hashes([leaf_hash(leaf) for leaf in _check_leaves(leaves)])


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]): the audit path of leaf `index` in the tree of all `leaves`."""
    leaves = _check_leaves(leaves)
    _check_index(index, len(leaves))
    nodes = subtree_nodes([leaf_hash(leaf) for leaf in leaves])
    return inclusion_proof_from_nodes(nodes, index, len(leaves))


def consistency_proof(leaves: list[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) that the first `old_size` leaves form a prefix of `leaves`.

    Empty when old_size is 0 or n: every tree extends the empty tree, and itself."""
    leaves = _check_leaves(leaves)
    _check_sizes(old_size, len(leaves))
    nodes = subtree_nodes([leaf_hash(leaf) for leaf in leaves])
    return consistency_proof_from_nodes(nodes, old_size, len(leaves))


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, for the raw leaf input `leaf`."""
    if not isinstance(leaf, bytes):
        return False
    return verify_inclusion_hash(leaf_hash(leaf), index, tree_size, proof, root)


def verify_inclusion_hash(
    hashed_leaf: bytes, index: int, tree_size: int, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, for a leaf given by its hash."""
    if not (_is_hash(hashed_leaf) and _is_hash(root) and _is_size(index) and _is_size(tree_size)):
        return False
    if not isinstance(proof, (list, tuple)) or not all(_is_hash(p) for p in proof):
        return False
    if index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = hashed_leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2; for the cases the RFC leaves out (old size 0, or equal sizes)
    only an empty proof is valid, with the empty root or equal roots respectively."""
    if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root)):
        return False
    if not _is_hash(new_root) or not isinstance(proof, (list, tuple)):
        return False
    if not all(_is_hash(c) for c in proof) or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
