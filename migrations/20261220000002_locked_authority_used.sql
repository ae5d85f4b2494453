-- The authority an approver has used in a period, read after taking their lock, in one
-- round trip. Two approvals by one person serialise on the lock (so they cannot both fit the
-- last of a monthly limit), and the second must then see the first's row: in PL/pgSQL each
-- statement of a VOLATILE function takes a fresh snapshot under READ COMMITTED, so the sum,
-- run after the lock is granted, sees what committed while it waited. (One plain statement
-- taking the lock and summing would sum over the snapshot from before the wait.)
CREATE FUNCTION steward_locked_authority_used(
    p_approver text, p_currency text, p_from timestamptz, p_to timestamptz
) RETURNS numeric
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('credit-authority:' || p_approver, 0));
    RETURN (SELECT coalesce(sum(amount), 0) FROM credit_approvals
            WHERE approver = p_approver AND currency = p_currency
              AND decided_at >= p_from AND decided_at < p_to);
END
$$;
