"""The Exact Online token pairs, encrypted at rest and shared by every process.

One pair per Exact app and administration (division): each shop books into its own division,
and Exact's consent screen scopes a login to the divisions chosen there, so every shop signs in
on its own and its pair must never be used for, or overwritten by, another division.

Exact rotates the refresh token on every refresh and kills the old one, so the stored pair is
the connection itself: losing a write, or two processes refreshing with the same refresh token,
means a human has to log in again. Hence `TokenStore.locked()`: a transaction holding a
cross-process lock in which the caller re-reads the pair, refreshes if still needed and saves
the new pair before anyone may use it.

The tokens are Fernet-encrypted with WOO_EXACT_SECRET_KEY; the expiry times stay readable so
an analyst can see when the connection needs attention without holding the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import ColumnElement, Connection, Engine, insert, select, update

from woo_exact_pipeline.store.locks import lock_for_transaction
from woo_exact_pipeline.store.schema import exact_tokens

#: Exact drops a refresh token that has not been used for 30 days.
REFRESH_TOKEN_IDLE_LIFETIME = timedelta(days=30)

GENERATE_KEY_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class TokenStoreError(Exception):
    """The stored tokens cannot be used with this key (wrong key, damaged or swapped row)."""


class InvalidSecretKey(TokenStoreError):
    """WOO_EXACT_SECRET_KEY is not a key at all: a setting to fix, not a login to renew."""


@dataclass(frozen=True)
class ExactTokens:
    """One token pair as Exact issued it; the tokens themselves never show in a repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    issued_at: datetime

    @property
    def refresh_expires_at(self) -> datetime:
        return self.issued_at + REFRESH_TOKEN_IDLE_LIFETIME


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite hands back the naive UTC it was given."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class LockedTokens:
    """The stored pair as read under the lock, and the way to replace it in that transaction."""

    def __init__(self, store: TokenStore, connection: Connection) -> None:
        self._store = store
        self._connection = connection
        self.tokens = store.read(connection)

    def replace(self, tokens: ExactTokens) -> None:
        self._store.write(self._connection, tokens)
        self.tokens = tokens


class TokenStore:
    """The `exact_tokens` row of one Exact app (client id) in one administration (division)."""

    def __init__(
        self,
        engine: Engine,
        client_id: str,
        division: int,
        secret_key: str | bytes,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        try:
            self._fernet = Fernet(secret_key)
        except (ValueError, TypeError):
            raise InvalidSecretKey(
                f"WOO_EXACT_SECRET_KEY is not a valid Fernet key; {GENERATE_KEY_HINT}"
            ) from None
        self._engine = engine
        self.client_id = client_id
        self.division = division
        self._clock = clock

    def __repr__(self) -> str:
        return f"TokenStore(client_id={self.client_id!r}, division={self.division})"

    def load(self) -> ExactTokens | None:
        with self._engine.connect() as connection:
            return self.read(connection)

    def save(self, tokens: ExactTokens) -> None:
        with self.locked() as locked:
            locked.replace(tokens)

    @contextmanager
    def locked(self) -> Iterator[LockedTokens]:
        """A transaction holding this app and division's token lock; committed at block end."""
        with self._engine.begin() as connection:
            # Per division: refreshing one shop's pair never waits for another's.
            lock_for_transaction(connection, f"exact_tokens:{self.client_id}:{self.division}")
            yield LockedTokens(self, connection)

    def read(self, connection: Connection) -> ExactTokens | None:
        row = connection.execute(select(exact_tokens).where(*self._key())).one_or_none()
        if row is None:
            return None
        try:
            secret = json.loads(self._fernet.decrypt(row.encrypted_tokens))
        except InvalidToken:
            raise TokenStoreError(
                "the stored Exact tokens cannot be decrypted with this WOO_EXACT_SECRET_KEY; "
                "set the key that was used at login, or run `woo-exact exact login` again"
            ) from None
        if secret.get("client_id") != self.client_id:
            raise TokenStoreError(
                f"the stored Exact tokens of app {self.client_id} belong to another app; "
                "run `woo-exact exact login` again"
            )
        if secret.get("division") != self.division:
            raise TokenStoreError(
                f"the stored Exact tokens of administration {self.division} were issued for "
                f"administration {secret.get('division')}; run `woo-exact exact login` for the "
                f"shop that books into administration {self.division}"
            )
        return ExactTokens(
            access_token=secret["access_token"],
            refresh_token=secret["refresh_token"],
            access_expires_at=as_utc(row.access_expires_at),
            issued_at=as_utc(row.issued_at),
        )

    def write(self, connection: Connection, tokens: ExactTokens) -> None:
        # The client id and division inside the ciphertext bind it to its row: a row copied to
        # another app or division fails to load.
        secret = {
            "client_id": self.client_id,
            "division": self.division,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
        }
        values = {
            "encrypted_tokens": self._fernet.encrypt(json.dumps(secret).encode("utf-8")),
            "access_expires_at": as_utc(tokens.access_expires_at),
            "issued_at": as_utc(tokens.issued_at),
            "refresh_expires_at": as_utc(tokens.refresh_expires_at),
            "updated_at": as_utc(self._clock()),
        }
        changed = connection.execute(
            update(exact_tokens).where(*self._key()).values(values)
        ).rowcount
        if not changed:
            connection.execute(
                insert(exact_tokens).values(
                    client_id=self.client_id, division=self.division, **values
                )
            )

    def _key(self) -> tuple[ColumnElement[bool], ...]:
        return (
            exact_tokens.c.client_id == self.client_id,
            exact_tokens.c.division == self.division,
        )
