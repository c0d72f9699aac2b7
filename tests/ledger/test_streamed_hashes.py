"""A post whose chunk holds a very large entry is hashed piece by piece (ledger.chain
STREAMED_POSTINGS); the chain hashes, the heads and the input hash must be those of the whole
texts, whatever the piece size, for any mix of entities, memos and posting counts."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.ledger import chain
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft

MOMENT = dt.datetime(2026, 10, 5, 9, 30, 0, 123456)
ENTITIES = ("COUNTY", "611002001001", "COOP-001")


def _draft(entity: str, memo: str, amounts: list[int], household: str | None) -> EntryDraft:
    postings = [PostingDraft("211", amount, household, "光伏", None) for amount in amounts]
    postings.append(PostingDraft("102", -sum(amounts), None, None, "PAY-202610-000001"))
    return EntryDraft(entity, "2026-10", dt.date(2026, 10, 5), memo, tuple(postings), "test", "ref")


ENTRY = st.builds(
    _draft,
    st.sampled_from(ENTITIES),
    st.sampled_from(["电费", "golden", "分红 2026"]),
    st.lists(st.integers(1, 10**9), min_size=1, max_size=9),
    st.sampled_from([None, "6110021012010001"]),
)


def _chunks(batch: EntryBatch, entity_ids: list[int], chunk_entries: int) -> list[chain.HashChunk]:
    starts = {entity: chain.ChainStart(f"{entity:064d}", entity * 10 + 1) for entity in set(entity_ids)}
    vouchers = list(range(1, batch.entry_count + 1))
    return list(chain.post_hash_chunks(batch, entity_ids, starts, vouchers, "会计甲", MOMENT, chunk_entries))


@settings(max_examples=150, deadline=None)
@given(drafts=st.lists(ENTRY, min_size=1, max_size=12), chunk_entries=st.integers(1, 5), piece=st.integers(1, 4))
def test_streamed_hashes_are_the_hashes_of_the_whole_texts(drafts: list, chunk_entries: int, piece: int) -> None:
    batch = EntryBatch.from_drafts(drafts)
    entity_ids = [ENTITIES.index(draft.entity_code) + 1 for draft in drafts]
    whole = _chunks(batch, entity_ids, chunk_entries)
    saved = chain.STREAMED_POSTINGS
    chain.STREAMED_POSTINGS = piece  # every chunk with an entry of more postings than this streams
    try:
        streamed = _chunks(batch, entity_ids, chunk_entries)
    finally:
        chain.STREAMED_POSTINGS = saved
    # Chunks may be cut elsewhere; every entry's hash, the heads and the input hash may not.
    hashes_of = lambda chunks: [value for chunk in chunks for value in chunk.hashes]  # noqa: E731
    assert hashes_of(streamed) == hashes_of(whole)
    assert (streamed[-1].input_hash, streamed[-1].heads) == (whole[-1].input_hash, whole[-1].heads)
    # Each chunk holds at most `piece` postings, or one entry that holds more.
    starts = batch.posting_starts
    assert all(c.end - c.start == 1 or starts[c.end] - starts[c.start] <= piece for c in streamed[:-1])
    assert whole[-1].input_hash == chain.input_hash(chain.entry_content_texts(batch))
    assert [b"".join(chain.entry_content_pieces(batch, index)) for index in range(batch.entry_count)] == [
        text.encode("utf-8") for text in chain.entry_content_texts(batch)
    ]
