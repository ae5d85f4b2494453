-- Discord custom ids carry only the action id, so the modal of a prompt or the wording of a
-- confirmation is looked up from the message that showed the button (storage/lookup.rs), on
-- every such click. These indexes hold, per message, the action ids of the buttons that need
-- that look-up (those with a prompt or a confirmation), so the look-up reads an index instead
-- of scanning every stored message. They are partial: messages without such buttons add no
-- index entry to the write path. The expressions use only IMMUTABLE built-ins, and
-- storage/lookup.rs repeats them verbatim so that the planner matches them.

CREATE INDEX outbox_asked_actions_idx ON outbox USING gin (
    jsonb_path_query_array(
        payload, '$.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm)).action')
    jsonb_path_ops)
    WHERE jsonb_path_exists(payload, '$.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm))');

-- Private cards (ephemeral replies) are stored only with the inbox row they answer.
CREATE INDEX inbox_asked_actions_idx ON inbox USING gin (
    jsonb_path_query_array(
        reply, '$.message.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm)).action')
    jsonb_path_ops)
    WHERE jsonb_path_exists(
        reply, '$.message.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm))');
