"""Tokens to words and length buckets, on plain lists."""

from integrad.modalities.text_encoding import (
    Encoded,
    encode,
    length_buckets,
    merge_words,
)


def test_encode_keeps_offsets_word_ids_and_extra_inputs(tiny_tokenizer):
    e = encode(tiny_tokenizer, "Great  food!", max_length=None)
    assert e.special == [True, False, False, False, True]
    assert e.word_ids == [None, 0, 1, 2, None]
    assert e.offsets == [(0, 0), (0, 5), (7, 11), (11, 12), (0, 0)]
    assert e.extra == {"token_type_ids": [0, 0, 0, 0, 0]}
    assert (e.truncated, e.n_original) == (False, 5)
    cut = encode(tiny_tokenizer, "Great  food!", max_length=4)
    assert (cut.truncated, cut.n_original, len(cut.ids)) == (True, 5, 4)


def test_merge_words_sums_subwords_and_keeps_stray_tokens():
    e = Encoded(
        text="fantastic ok",
        ids=[2, 10, 11, 12, 13, 3],
        special=[True, False, False, False, False, True],
        word_ids=[None, 0, 0, 0, None, None],  # token 4 belongs to no word, yet is text
        offsets=[(0, 0), (0, 3), (3, 6), (6, 9), (10, 12), (0, 0)],
        extra={},
        truncated=False,
        n_original=6,
    )
    spans, scores, token_words = merge_words(e, [9.0, 1.0, 2.0, 0.5, -1.0, 7.0])
    assert spans == [(0, 9), (10, 12)]
    assert scores == [3.5, -1.0]
    assert token_words == [None, 0, 0, 0, 1, None]


def test_length_buckets_limit_padding_and_group_size():
    assert length_buckets([5, 30, 6, 29, 5], max_texts=32) == [[0, 4, 2], [3, 1]]
    assert length_buckets([5] * 5, max_texts=2) == [[0, 1], [2, 3], [4]]
    assert length_buckets([10, 12, 20], max_texts=8, padding=1.0) == [[0, 1, 2]]
    assert length_buckets([], max_texts=8) == []
    groups = length_buckets([3, 40, 7, 8, 9, 41, 3, 12], max_texts=32)
    assert sorted(i for g in groups for i in g) == list(range(8))
    for g in groups:  # padded tokens stay within 25% of the real ones
        lengths = [[3, 40, 7, 8, 9, 41, 3, 12][i] for i in g]
        assert max(lengths) * len(g) <= 1.25 * sum(lengths)
