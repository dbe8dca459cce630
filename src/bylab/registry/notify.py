"""Notifying the followers of a record: an entry in each one's feed, and an e-mail when an
SMTP server is configured (``BYLAB_SMTP_HOST``). E-mail is best effort and goes out only
after the change has committed: a slow or failing mail server never holds a write open or
undoes the change it reports; a failure is logged."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bylab.auth.models import User
from bylab.core import Context
from bylab.registry.models import Follow, Notification
from bylab.settings import Settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 10


def notify_followers(ctx: Context, session: Session, target_type: str, target_id: str,
                     message: str, link: str) -> None:
    """Tell every follower of the record but the actor what happened: feed entries in the
    same transaction as the change itself, e-mail once that transaction has committed."""
    followers = list(session.scalars(select(Follow.user_id).where(
        Follow.target_type == target_type, Follow.target_id == target_id,
        Follow.user_id != (ctx.actor.user_id or ""))))
    for user_id in followers:
        session.add(Notification(user_id=user_id, target_type=target_type,
                                 target_id=target_id, message=message,
                                 by=ctx.actor.username or ""))
    if ctx.settings.smtp_host and followers:
        addresses = [email for email in session.scalars(
            select(User.email).where(User.id.in_(followers))) if email]
        url, settings = f"{ctx.settings.base_url}{link}", ctx.settings
        event.listen(session, "after_commit",
                     lambda _session: send_mail(settings, addresses, message, url), once=True)


def send_mail(settings: Settings, addresses: list[str], message: str, url: str) -> None:
    """One e-mail per address, through the configured SMTP server."""
    if not addresses or not settings.smtp_host:
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            for address in addresses:
                mail = EmailMessage()
                mail["From"], mail["To"] = settings.smtp_sender, address
                mail["Subject"] = f"bylab: {message}"
                mail.set_content(f"{message}\n\n{url}\n")
                smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("could not e-mail %d follower(s): %s", len(addresses), error)
