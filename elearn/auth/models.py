"""Sign-in state kept by the server: a row per signed-in browser (ended by logout, "sign out everywhere", a
password change, deactivation), and API tokens (bearer credentials; only their SHA-256 is stored)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import PERSONAL, Base
from elearn.orgs.models import Organisation, User
from elearn.security.fields import EncryptedText


class ApiToken(Base):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored; it is shown once. Its scopes
    (``elearn.http.api.SCOPES``, space-separated as in OAuth) narrow what it may do; an admin's token may also be
    limited to one organisation subtree (inside the admin's own), which its admin endpoints then see alone."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Tokens issued before scopes existed were used for reading and reporting study: they keep exactly that.
    scopes: Mapped[str] = mapped_column(String(50), default="read study", server_default="read study")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class LoginSession(Base):
    """One signed-in browser. Its random id is what the session and remember-me cookies carry, so the server
    decides on every request whether it still counts; ending the row signs the browser out at once, whatever
    copy of its cookies exists."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(EncryptedText(45, "login_session.ip"), default="", info=PERSONAL)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    remember: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))  # policy.SESSION_END_REASONS
    # When the user signed in: a remember-me comeback rotates the row but keeps this, so the absolute lifetime
    # (policy.SessionPolicy) counts from the sign-in, not from the last rotation.
    signed_in_at: Mapped[datetime]
    # The password had expired at sign-in: nothing but changing it is allowed in this session.
    password_change_required: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class TwoFactor(Base):
    """A user's second factor (TOTP, RFC 6238; elearn.auth.two_factor). The secret is stored encrypted (AES-GCM
    under a key derived from the app's secret key), so a copy of the database does not yield it. A row without
    ``confirmed_at`` is an enrolment under way (its secret shown on the enrolment page, not yet proven by a code)
    or, with ``reset_at`` set, a higher admin's reset: the user must enrol again at their next sign-in."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    secret_encrypted: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    # The TOTP time step of the last code accepted: a code of that step or an earlier one is a replay.
    last_step: Mapped[int | None]
    reset_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time recovery code of the second factor: only its keyed hash (HMAC-SHA256) is stored; used once."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PasswordHistory(Base):
    """A password the user had before (its argon2 hash), and when it was replaced: a new password may not be
    one of the last ``policy.PasswordPolicy.history``, and the newest row dates the current password (its
    expiry). Not marked personal: a one-way hash of a secret no longer in use, read only to compare."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    replaced_at: Mapped[datetime]


class SignInIdentity(Base):
    """A member's account at a sign-in provider (CAS or OpenID Connect, elearn.auth.sso): the provider's id of
    the account (CAS user, OIDC ``sub``) signs in as ``user``. A row with ``unlinked_at`` set is a link the member
    took away on their account page: that provider account no longer signs in, nor is it matched again by its
    attributes, until it is linked anew."""

    __tablename__ = "sign_in_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    provider: Mapped[str] = mapped_column(String(40))  # an id of config ELEARN_SSO_PROVIDERS
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    unlinked_at: Mapped[datetime | None]
