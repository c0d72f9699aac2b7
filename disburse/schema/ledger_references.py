"""The ledger's references on PostgreSQL, checked once per statement instead of once per row.

A foreign key is checked by PostgreSQL row by row (one lookup and one row lock per inserted
row): posting 100,000 two-posting entries spent 2.0 of its 3.6 seconds in the five foreign keys
of ``journal_entries`` and ``postings``, and another 0.5 s at commit in a deferred balance
trigger fired once per entry. Migration 0115 replaces them, on PostgreSQL only, with:

- one trigger per COPY or INSERT statement on ``journal_entries`` and on ``postings``
  (``REFERENCING NEW TABLE``), which looks up every reference the statement's rows make: the
  entity, the entry reversed, the post request (and that the entry lies in its id range), the
  entry of a posting and its account — the same refusals, one statement's rows at a time;
- triggers on the referenced tables (``accounts``, ``entities``) refusing a delete or key change
  that would leave a posting or entry pointing at nothing, as the foreign keys did (a post
  request is never changed or deleted already: its guard, ``disburse.schema.guards``);
- one deferred constraint trigger per post request (not per entry), which checks at commit that
  every entry in the request's range balances and has the postings it declares.

SQLite keeps its foreign keys: there they are cheap, and the poster's read-back
(``ledger.posting._check_written``) checks the sums before commit on both engines. The models keep
their ``ForeignKey`` declarations (the ORM and SQLite use them); ``include_object`` tells
Alembic's comparison that on PostgreSQL these five are triggers now.
"""

from __future__ import annotations

# (constraint name, table, column, referred table, referred column): the foreign keys 0115 replaces.
REPLACED_FOREIGN_KEYS = (
    ("fk_journal_entries_entity_id_entities", "journal_entries", "entity_id", "entities", "id"),
    ("fk_journal_entries_post_request_id_post_requests", "journal_entries", "post_request_id", "post_requests", "id"),
    ("fk_journal_entries_reverses_entry_id_journal_entries", "journal_entries", "reverses_entry_id",
     "journal_entries", "id"),
    ("fk_postings_account_code_accounts", "postings", "account_code", "accounts", "code"),
    ("fk_postings_entry_id_journal_entries", "postings", "entry_id", "journal_entries", "id"),
)  # fmt: skip
REPLACED_FOREIGN_KEY_NAMES = frozenset(name for name, *_ in REPLACED_FOREIGN_KEYS)


def include_object(dialect_name: str):  # type: ignore[no-untyped-def]
    """Alembic's ``include_object`` for a comparison on ``dialect_name``: on PostgreSQL the
    replaced foreign keys are left out (the models declare them; there 0115 made them
    triggers); on SQLite every key is compared."""

    def included(object_, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        return not (
            dialect_name == "postgresql" and type_ == "foreign_key_constraint" and name in REPLACED_FOREIGN_KEY_NAMES
        )

    return included


NEW_ENTRIES_CHECKED = """
CREATE FUNCTION disburse_check_new_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    item record;
    request record;
BEGIN
    FOR item IN SELECT DISTINCT n.entity_id FROM new_entries n LOOP
        PERFORM 1 FROM entities WHERE id = item.entity_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'a journal entry names entity %, which does not exist', item.entity_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END LOOP;
    FOR item IN SELECT n.post_request_id, min(n.id) AS low, max(n.id) AS high FROM new_entries n
                GROUP BY n.post_request_id LOOP
        SELECT first_entry_id, last_entry_id INTO request FROM post_requests WHERE id = item.post_request_id;
        IF NOT FOUND OR item.low < request.first_entry_id OR item.high > request.last_entry_id THEN
            RAISE EXCEPTION 'journal entry % lies outside the entries of its post request %',
                CASE WHEN FOUND AND item.low >= request.first_entry_id THEN item.high ELSE item.low END,
                item.post_request_id
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    SELECT n.id, n.reverses_entry_id INTO item FROM new_entries n
     WHERE n.reverses_entry_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = n.reverses_entry_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % reverses entry %, which does not exist', item.id, item.reverses_entry_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
"""

NEW_POSTINGS_CHECKED = """
CREATE FUNCTION disburse_check_new_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    item record;
    low bigint;
    high bigint;
BEGIN
    FOR item IN SELECT DISTINCT n.account_code FROM new_postings n LOOP
        PERFORM 1 FROM accounts WHERE code = item.account_code;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'a posting names account %, which is not in the chart', item.account_code
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END LOOP;
    -- The entries of one statement's postings are a short id range: read through the primary key.
    SELECT min(n.entry_id), max(n.entry_id) INTO low, high FROM new_postings n;
    SELECT n.entry_id, n.line_number INTO item FROM new_postings n
     WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = n.entry_id AND e.id BETWEEN low AND high)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'posting % of entry % belongs to no journal entry', item.line_number, item.entry_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
"""

# What a foreign key also did: refuse removing (or re-keying) a row that others point at.
REFERENCED_KEPT = """
CREATE FUNCTION disburse_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'accounts' THEN
        IF (TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code)
           AND EXISTS (SELECT 1 FROM postings WHERE account_code = OLD.code) THEN
            RAISE EXCEPTION '% of account % is refused: postings use it', TG_OP, OLD.code
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF TG_TABLE_NAME = 'entities' THEN
        IF (TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id)
           AND EXISTS (SELECT 1 FROM journal_entries WHERE entity_id = OLD.id) THEN
            RAISE EXCEPTION '% of entity % is refused: journal entries are in its books', TG_OP, OLD.id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
"""

# One check per post request at commit: every entry of its range balances, has at least two
# postings and has as many as it declares (the check 0001 made once per entry).
POST_BALANCED = """
CREATE FUNCTION disburse_check_post_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    request record;
    bad record;
BEGIN
    SELECT first_entry_id, last_entry_id INTO request FROM post_requests WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed again in its own transaction, which only a request without entries may be
    END IF;
    SELECT e.id, e.posting_count, count(p.id) AS lines, coalesce(sum(p.amount_fen), 0) AS total
      INTO bad
      FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
     WHERE e.id BETWEEN request.first_entry_id AND request.last_entry_id
     GROUP BY e.id, e.posting_count
    HAVING coalesce(sum(p.amount_fen), 0) <> 0 OR count(p.id) < 2 OR count(p.id) <> e.posting_count
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % posting(s) (% declared) sum to % fen, not 0',
            bad.id, bad.lines, bad.posting_count, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""

# (name, table, CREATE statement): made by 0115; its downgrade drops them by name and table.
TRIGGERS = (
    # Named to fire after journal_entries_closed_period (statement triggers fire in name order):
    # an entry into a closed month is refused for that first.
    ("journal_entries_references", "journal_entries",
     "CREATE TRIGGER journal_entries_references AFTER INSERT ON journal_entries "
     "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION disburse_check_new_entries()"),
    ("postings_references", "postings",
     "CREATE TRIGGER postings_references AFTER INSERT ON postings "
     "REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION disburse_check_new_postings()"),
    ("accounts_referenced", "accounts",
     "CREATE TRIGGER accounts_referenced BEFORE UPDATE OR DELETE ON accounts "
     "FOR EACH ROW EXECUTE FUNCTION disburse_keep_referenced()"),
    ("entities_referenced", "entities",
     "CREATE TRIGGER entities_referenced BEFORE UPDATE OR DELETE ON entities "
     "FOR EACH ROW EXECUTE FUNCTION disburse_keep_referenced()"),
    ("post_requests_balanced", "post_requests",
     "CREATE CONSTRAINT TRIGGER post_requests_balanced AFTER INSERT ON post_requests "
     "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disburse_check_post_balanced()"),
)  # fmt: skip
FUNCTIONS = ("disburse_check_new_entries", "disburse_check_new_postings", "disburse_keep_referenced",
             "disburse_check_post_balanced")  # fmt: skip
