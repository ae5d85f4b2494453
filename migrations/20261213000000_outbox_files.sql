-- Files uploaded for an outbox message (issue 14 item 4). Slack uploads in steps
-- (files.getUploadURLExternal, the bytes, files.completeUploadExternal): the file id is
-- recorded once the bytes are up, and `shared_at` once the file was shared into the channel,
-- so a retry of the message completes the same file instead of uploading (and sharing) a
-- second one. Rows go with their outbox row when retention prunes it.
CREATE TABLE outbox_files (
    outbox_id bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    position int NOT NULL,
    file_id text NOT NULL,
    recorded_at timestamptz NOT NULL,
    shared_at timestamptz,
    PRIMARY KEY (outbox_id, position)
);
