"""Organisations (a tree: committee → general branch → branch, each with a sector), users, and their
memberships of organisations over time."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import PERSONAL, Base
from elearn.security.fields import EncryptedText, hashed_from


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # policy.ORG_KINDS
    sector: Mapped[str] = mapped_column(String(40), index=True)  # policy.SECTORS
    # A committee at county level or above may organise off-job training that counts for secretaries.
    county_level_or_above: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Materialised path "/1/4/9/": a subtree is one indexed prefix query, at any size.
    path: Mapped[str] = mapped_column(String(500), index=True, default="/")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Members sign in through the organisation's provider only (elearn.auth.sso): set here, it holds for the
    # whole subtree; site admins keep their password.
    local_passwords_off: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent", order_by="Organisation.name")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: Organisation) -> bool:
        """True when this organisation is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class User(UserMixin, Base):
    __tablename__ = "user_account"
    # Covers the analytics scans of an organisation's members (who counts, category, exemption) without
    # reading the wide rows: counting 100,000 members drops from ~100 ms to ~8 ms on SQLite.
    __table_args__ = (Index("ix_user_account_org_scope", "organisation_id", "active", "role", "category", "exempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # Personal fields are stored encrypted (elearn.security.fields); their keyed hashes serve exact look-ups
    # (the members' search by name, phone or e-mail), as SQL cannot compare the ciphertext.
    name: Mapped[str] = mapped_column(EncryptedText(100, "user_account.name"), info=PERSONAL)
    phone: Mapped[str | None] = mapped_column(EncryptedText(30, "user_account.phone"), info=PERSONAL)
    email: Mapped[str | None] = mapped_column(EncryptedText(200, "user_account.email"), info=PERSONAL)
    name_hash: Mapped[str | None] = mapped_column(String(100), index=True, info=hashed_from("name"))
    phone_hash: Mapped[str | None] = mapped_column(String(100), index=True, info=hashed_from("phone"))
    email_hash: Mapped[str | None] = mapped_column(String(100), index=True, info=hashed_from("email"))
    password_hash: Mapped[str] = mapped_column(String(200), info={
        **PERSONAL, "encrypted": False,
        "why": "a salted one-way hash (elearn.auth.passwords): nothing to decrypt, and encrypting it adds nothing"})
    role: Mapped[str] = mapped_column(String(20), default="member")  # policy.ROLES
    category: Mapped[str] = mapped_column(String(30), default="member")  # policy.MEMBER_CATEGORIES
    exempt: Mapped[bool] = mapped_column(default=False)
    exempt_reason: Mapped[str | None] = mapped_column(EncryptedText(200, "user_account.exempt_reason"),
                                                      info=PERSONAL)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Age-friendly mode (适老化, elearn.auth.age_friendly): larger text, higher contrast, bigger touch targets and a
    # simplified home, kept on the account so that it follows the member to every device they sign in on.
    age_friendly: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The day the member joined the party (入党日期): their political birthday (elearn.branch.birthdays).
    party_joined_on: Mapped[date | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.started_on", cascade="all, delete-orphan")

    @property
    def login_session_id(self) -> str | None:
        """The server-side login session this request runs in (elearn.auth.models.LoginSession), set when
        signing in or when the session is loaded; flask-login keeps it in the cookies instead of the user id.
        (Not a column: the instance's own attribute.)"""
        return self.__dict__.get("_login_session_id")

    @login_session_id.setter
    def login_session_id(self, value: str | None) -> None:
        self.__dict__["_login_session_id"] = value

    def get_id(self) -> str:
        if self.login_session_id is None:
            raise RuntimeError("a user is signed in only through elearn.auth.services.start_session")
        return self.login_session_id

    # Rows compare by identity (one object per row in a session), not by flask-login's get_id(), which names the
    # login session and exists only for a signed-in user.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(Base):
    """A period of a user in an organisation. Transfers close one and open another, so history is kept.

    ``kind`` is ``home`` (the organisation the member belongs to) or ``inflow`` (a mobile member studying
    with an inflow organisation, which is then responsible while the home organisation still sees the record).
    """

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="home")
    responsible: Mapped[bool] = mapped_column(default=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()
