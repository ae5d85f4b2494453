-- Onboarding steps have a named owner (issue 16 item 4): the current step's, projected so
-- the standup lists a step due today under the person who works it.
ALTER TABLE onboardings ADD COLUMN current_owner text;
