"""Reconciliation: bank statement lines against the books, down to a 银行存款余额调节表.

Pure core: ``matching.reconcile`` over frames, ``adjusted_balance.adjusted_balance`` over its
result; the records and column contracts live in ``reconciliation.model``.

Around it, the database and the commands: ``statements`` (import a bank statement into a
registered bank account, each line once), ``frames`` (one account's period read as the frames
``reconcile`` takes), ``runs`` (run and store, confirm, reject), ``unmatched`` (post bank-only
lines by rules), ``report`` (the workbook), ``commands`` (Typer) and ``tables`` (storage).
"""
