"""The chain page: the verify status with the head hash, and the records per batch and run."""

from __future__ import annotations

from yibao.desk.render import page


def chain_page(ctx, status, store):
    counts = ctx.catalog.batch_counts()
    batches = [(batch, counts.get(batch.batch, [])) for batch in store.batches()]
    return page(ctx, status, "chain.html", "账链", batches=batches,
                records=store.last_seq(), indexed=ctx.catalog.seq)
