"""Alembic migrations for tradefleet's database (applied by ``tradefleet.db.migrate``)."""
