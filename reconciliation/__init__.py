"""Reconciliation: bank statement lines against the books, down to a 银行存款余额调节表.

Pure core only: ``matching.reconcile`` over frames, ``adjusted_balance.adjusted_balance`` over its
result. The records and column contracts live in ``reconciliation.model``.
"""
