import numpy as np
import pytest

from robbench_plugin import Arch, InvalidArchError
from robbench_plugin.space import (EDGES, NUM_ARCHS, NUM_UNIQUE, OPS, cell_signature, representative_indices,
                                   unique_indices)


def test_isomorphism_matches_release_meta_for_all_15625(release_meta):
    ids = release_meta["ids"]
    expected = np.array([int(ids[str(i)]["isomorph"]) for i in range(NUM_ARCHS)])
    assert (representative_indices() == expected).all()


def test_representatives_equal_published_6466_ids(published_representatives):
    assert len(unique_indices()) == NUM_UNIQUE == 6466
    assert sorted(published_representatives) == unique_indices().tolist()


def test_index_order_matches_meta_strings_for_all(release_meta):
    ids = release_meta["ids"]
    for i in range(NUM_ARCHS):
        a = Arch.from_index(i)
        assert a.string == ids[str(i)]["nb201-string"]
        assert Arch.from_string(a.string).index == i
        assert Arch.from_ops(a.ops).index == i
        assert Arch.from_ops(a.codes).index == i


def test_each_representative_is_smallest_of_its_class():
    rep = representative_indices()
    assert (rep <= np.arange(NUM_ARCHS)).all()
    assert (rep[rep] == rep).all()


def test_contract_examples():
    a = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    assert a.index == 1 and a.uid == 1
    b = Arch.from_index(1000)
    assert b.string == "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|skip_connect~1|nor_conv_3x3~2|"
    c = Arch.from_ops(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none"])
    assert c.codes == (0, 1, 2, 3, 4, 0)
    assert Arch.from_ops([0, 1, 2, 3, 4, 0]).same_cell(c)
    assert len(Arch.all()) == 15625 and len(Arch.all(unique=True)) == 6466


def test_all_none_cell_is_in_class_10():
    # index 1651 (all none) -> representative 10, as in the release meta
    assert Arch.from_index(1651).uid == 10
    assert Arch.from_index(1651) == Arch.from_index(10)


def test_zero_plus_zero_quirk_hand_case():
    # node 1 <- none gives the zero marker; node 2 with two zero inputs is "#+#", not zero,
    # so a conv after node 2 is NOT zero, unlike the same conv after node 1.
    sig_a = cell_signature((0, 0, 0, 0, 0, 3))  # node3 <- conv(node2), node2 = #+#
    sig_b = cell_signature((0, 0, 0, 0, 0, 0))  # all none
    assert sig_a != sig_b
    sig_c = cell_signature((0, 0, 0, 0, 3, 0))  # node3 <- conv(node1), node1 = zero -> contributes zero
    assert sig_c == cell_signature((0, 0, 0, 0, 0, 0))


def test_hand_computed_isomorphisms():
    conv_out = Arch.from_ops(["none", "none", "none", "nor_conv_3x3", "none", "none"])  # out = conv3(x)
    # a dead branch (node 1 feeds nothing) does not change the class
    assert Arch.from_ops(["skip_connect", "none", "none", "nor_conv_3x3", "none", "none"]) == conv_out
    # skip is the identity: conv3(skip(x)) via node 1 equals conv3(x)
    assert Arch.from_ops(["skip_connect", "none", "none", "none", "nor_conv_3x3", "none"]) == conv_out
    # the sum commutes: conv3(x) + conv1(x) through either edge slot
    a = Arch.from_ops(["skip_connect", "none", "none", "nor_conv_3x3", "nor_conv_1x1", "none"])
    b = Arch.from_ops(["skip_connect", "none", "none", "nor_conv_1x1", "nor_conv_3x3", "none"])
    assert a == b
    # but different ops are different computations
    assert Arch.from_ops(["none", "none", "none", "nor_conv_1x1", "none", "none"]) != conv_out
    # and composition order matters: conv1(conv3(x)) != conv3(conv1(x))
    c = Arch.from_ops(["nor_conv_3x3", "none", "none", "none", "nor_conv_1x1", "none"])
    d = Arch.from_ops(["nor_conv_1x1", "none", "none", "none", "nor_conv_3x3", "none"])
    assert c != d


def test_neighbours_and_mutation():
    a = Arch.from_index(1000)
    nb = a.neighbours()
    assert len(nb) == 24
    assert all(sum(p != q for p, q in zip(n.codes, a.codes)) == 1 for n in nb)
    uniq = a.neighbours(unique=True)
    assert a.uid not in {n.uid for n in uniq}
    assert len({n.uid for n in uniq}) == len(uniq)
    for seed in range(20):
        m = a.mutate(seed)
        assert m.uid != a.uid
        assert sum(p != q for p, q in zip(m.codes, a.codes)) == 1


def test_sampling_is_uniform_and_deterministic():
    s1 = Arch.sample(2000, rng=7)
    s2 = Arch.sample(2000, rng=7)
    assert [a.index for a in s1] == [a.index for a in s2]
    ops = np.array([a.codes for a in s1])
    freq = np.bincount(ops.ravel(), minlength=5) / ops.size
    assert np.allclose(freq, 0.2, atol=0.02)
    u = Arch.sample(500, rng=1, unique=True)
    assert all(a.is_representative for a in u)
    assert isinstance(Arch.sample(rng=3), Arch)


def test_hash_and_equality_by_class():
    a, b = Arch.from_index(1651), Arch.from_index(10)
    assert a == b and hash(a) == hash(b) and not a.same_cell(b)
    assert len({Arch.from_index(i) for i in range(NUM_ARCHS)}) == NUM_UNIQUE


def test_edges_and_ops_constants():
    assert EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


@pytest.mark.parametrize("bad", [-1, 15625, True, 3.0, None, b"x", "1000", "", [0] * 5, [0] * 7, ["conv"] * 6,
                                 [5, 0, 0, 0, 0, 0], [-1, 0, 0, 0, 0, 0]])
def test_bad_arch_inputs(bad):
    with pytest.raises(InvalidArchError):
        Arch.parse(bad)
