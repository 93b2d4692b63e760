"""Operational alerts: what counts as a problem, who has been told, and how to tell them.

Plain Python, no Dagster: `rules` turns facts (a run's failure text, the sync database's
order problems, the Exact login's expiry, check results, sensor ticks) into `Problem`s;
`book` remembers per channel which problems it has announced, so a problem produces one
message when it starts and one when it clears; `channels` delivers by e-mail, Slack and a
signed JSON webhook. The Dagster sensors in `defs/alerts/` only gather the facts.
"""
