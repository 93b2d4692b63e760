-- The sync database lives next to Dagster's own in the same PostgreSQL server.
CREATE DATABASE woo_exact OWNER dagster;
