"""Self-tests of reference/shuffle.py against spec chapter SHUF."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import shuffle
from reference.checks import SpecError
from reference.params import ChannelShuffle, Conv


def channel_order(channels: int, groups: int) -> list[int]:
    """The input channel each output channel holds, read off a shuffled arange."""
    x = np.arange(float(channels)).reshape(1, channels)
    return [int(v) for v in shuffle.channel_shuffle(x, ChannelShuffle(groups))[0]]


@st.composite
def shuffle_input(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """(x, g) with g dividing C by construction, and 0 to 3 spatial axes."""
    groups = draw(st.integers(1, 4), label="groups")
    channels = groups * draw(st.integers(1, 4), label="C/groups")
    spatial = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3), label="spatial")
    n_batch = draw(st.integers(0, 2), label="N")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    x = np.random.default_rng(seed).standard_normal((n_batch, channels, *spatial))
    return x, groups


# --- worked examples (SHUF.9) -------------------------------------------------


@pytest.mark.clauses("SHUF.9", "SHUF.2")
@pytest.mark.parametrize(
    ("channels", "groups", "order"),
    [
        (6, 2, [0, 3, 1, 4, 2, 5]),
        (6, 3, [0, 2, 4, 1, 3, 5]),
        (4, 2, [0, 2, 1, 3]),
        (6, 1, [0, 1, 2, 3, 4, 5]),
        (6, 6, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_worked_channel_orders(channels: int, groups: int, order: list[int]) -> None:
    assert channel_order(channels, groups) == order


@pytest.mark.clauses("SHUF.9", "SHUF.4")
def test_worked_inverse() -> None:
    x = np.array([0.0, 3.0, 1.0, 4.0, 2.0, 5.0]).reshape(1, 6, 1)
    out = shuffle.channel_shuffle(x, ChannelShuffle(3))
    np.testing.assert_array_equal(out.ravel(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.clauses("SHUF.9", "SHUF.5", "SHUF.6")
def test_worked_shuffled_grouped_conv() -> None:
    x = np.array([1.0, 10.0, 100.0, 1000.0]).reshape(1, 4, 1, 1)
    pointwise = Conv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)), groups=2)
    w1 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]).reshape(4, 2, 1, 1)
    w2 = np.ones((2, 2, 1, 1))
    shuffled = shuffle.shuffled_grouped_conv(x, w1, None, pointwise, 2, w2, None, pointwise)
    np.testing.assert_array_equal(shuffled.ravel(), [101.0, 1010.0])
    plain = shuffle.shuffled_grouped_conv(x, w1, None, pointwise, 1, w2, None, pointwise)
    np.testing.assert_array_equal(plain.ravel(), [11.0, 1100.0])


# --- properties ---------------------------------------------------------------


@pytest.mark.clauses("SHUF.2", "SHUF.3", "SHUF.1")
@given(case=shuffle_input())
def test_loop_equals_reshape_form(case: tuple[np.ndarray, int]) -> None:
    x, groups = case
    p = ChannelShuffle(groups)
    out = shuffle.channel_shuffle(x, p)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out, shuffle.channel_shuffle_reshape(x, p))


@pytest.mark.clauses("SHUF.4")
@given(case=shuffle_input())
def test_inverse_and_identities(case: tuple[np.ndarray, int]) -> None:
    x, groups = case
    channels = x.shape[1]
    p = ChannelShuffle(groups)
    back = shuffle.channel_shuffle(shuffle.channel_shuffle(x, p), shuffle.inverse(channels, p))
    np.testing.assert_array_equal(back, x)
    for trivial in (1, channels):
        np.testing.assert_array_equal(shuffle.channel_shuffle(x, ChannelShuffle(trivial)), x)


@pytest.mark.clauses("SHUF.4", "SHUF.8")
@given(case=shuffle_input(), dtype=st.sampled_from(["float16", "float32", "int8", "float64"]))
def test_permutation_is_exact_in_every_dtype(case: tuple[np.ndarray, int], dtype: str) -> None:
    x, groups = case
    x = (x * 50).astype(dtype)
    out = shuffle.channel_shuffle(x, ChannelShuffle(groups))
    assert out.dtype == x.dtype
    # Every output channel is one input channel, bit for bit, each input channel used once.
    channels = x.shape[1]
    sources = [shuffle.source_channel(j, channels, groups) for j in range(channels)]
    assert sorted(sources) == list(range(channels))
    for j, src in enumerate(sources):
        assert out[:, j].tobytes() == x[:, src].tobytes()
    if channels:
        assert sources[0] == 0 and sources[-1] == channels - 1


@st.composite
def stacked_groups(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """(C_in, C_mid, C_out, g, kernel) for a ShuffleNet-style pair of grouped convs."""
    g = draw(st.integers(1, 3), label="groups")
    c_in = g * draw(st.integers(1, 2), label="C_in/groups")
    c_mid = g * draw(st.integers(1, 4), label="C_mid/groups")
    c_out = g * draw(st.integers(1, 2), label="C_out/groups")
    kernel = draw(st.sampled_from([1, 3]), label="kernel")
    return c_in, c_mid, c_out, g, kernel


def observed_dependence(
    c_in: int, c_mid: int, c_out: int, g: int, kernel: int, shuffle_groups: int, seed: int
) -> list[frozenset[int]]:
    """Perturb each input group and see which output groups change (the maps are linear)."""
    rng = np.random.default_rng(seed)
    p = Conv(stride=(1, 1), dilation=(1, 1), padding=((kernel // 2,) * 2,) * 2, groups=g)
    w1 = rng.standard_normal((c_mid, c_in // g, kernel, kernel))
    w2 = rng.standard_normal((c_out, c_mid // g, kernel, kernel))
    size = 3
    reads: list[set[int]] = [set() for _ in range(g)]
    for r in range(g):
        per_in = c_in // g
        e = np.zeros((1, c_in, size, size))
        e[:, r * per_in : (r + 1) * per_in] = rng.uniform(1.0, 2.0, (1, per_in, size, size))
        y = shuffle.shuffled_grouped_conv(e, w1, None, p, shuffle_groups, w2, None, p)
        for i in range(g):
            if np.any(y[:, i * (c_out // g) : (i + 1) * (c_out // g)] != 0):
                reads[i].add(r)
    return [frozenset(s) for s in reads]


@pytest.mark.clauses("SHUF.6", "SHUF.5")
@given(config=stacked_groups(), seed=st.integers(0, 2**32 - 1))
def test_group_dependence_without_shuffle(
    config: tuple[int, int, int, int, int], seed: int
) -> None:
    c_in, c_mid, c_out, g, kernel = config
    predicted = shuffle.group_dependence(c_mid, g, 1, g)
    assert predicted == [frozenset({i}) for i in range(g)]
    assert observed_dependence(c_in, c_mid, c_out, g, kernel, 1, seed) == predicted


@pytest.mark.clauses("SHUF.6", "SHUF.5")
@given(config=stacked_groups(), seed=st.integers(0, 2**32 - 1))
def test_group_dependence_with_shuffle(config: tuple[int, int, int, int, int], seed: int) -> None:
    c_in, c_mid, c_out, g, kernel = config
    predicted = shuffle.group_dependence(c_mid, g, g, g)
    per = c_mid // g
    assert predicted == [frozenset((i * per + t) % g for t in range(per)) for i in range(g)]
    if per >= g:
        assert all(reads == frozenset(range(g)) for reads in predicted)
    assert observed_dependence(c_in, c_mid, c_out, g, kernel, g, seed) == predicted


# --- invalid configurations ---------------------------------------------------


@pytest.mark.clauses("SHUF.1")
@pytest.mark.parametrize(
    ("shape", "groups"),
    [((1, 6, 2), 4), ((1, 6), 0), ((1, 6), -2), ((6,), 1), ((), 1), ((1, 5, 2, 2), 2)],
)
def test_invalid_configurations_raise(shape: tuple[int, ...], groups: int) -> None:
    with pytest.raises(SpecError) as info:
        shuffle.channel_shuffle(np.zeros(shape), ChannelShuffle(groups))
    assert info.value.clause == "SHUF.1"


@pytest.mark.clauses("SHUF.1")
def test_non_integer_groups_raise() -> None:
    with pytest.raises(SpecError) as info:
        shuffle.channel_shuffle(np.zeros((1, 6)), ChannelShuffle(2.0))  # type: ignore[arg-type]
    assert info.value.clause == "SHUF.1"


@pytest.mark.clauses("SHUF.1", "SHUF.5")
def test_shuffle_between_convs_must_divide() -> None:
    x = np.zeros((1, 2, 1, 1))
    p = Conv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)))
    w1, w2 = np.zeros((4, 2, 1, 1)), np.zeros((1, 4, 1, 1))
    with pytest.raises(SpecError) as info:
        shuffle.shuffled_grouped_conv(x, w1, None, p, 3, w2, None, p)
    assert info.value.clause == "SHUF.1"


@pytest.mark.clauses("SHUF.6")
def test_group_dependence_requires_divisors() -> None:
    with pytest.raises(SpecError) as info:
        shuffle.group_dependence(6, 4, 2, 2)
    assert info.value.clause == "SHUF.6"
