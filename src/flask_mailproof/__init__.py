"""Flask-Mailproof: prove that people own their email addresses."""

from __future__ import annotations

from .errors import AddressSuppressed as AddressSuppressed
from .errors import AddressTaken as AddressTaken
from .errors import ConfigurationError as ConfigurationError
from .errors import MailproofError as MailproofError
from .errors import RateLimited as RateLimited
from .errors import TokenError as TokenError
from .errors import TokenExpired as TokenExpired
from .errors import TokenInvalid as TokenInvalid
from .errors import TokenSuperseded as TokenSuperseded
from .errors import TokenUsed as TokenUsed
from .extension import Mailproof as Mailproof
from .logs import JSONFormatter as JSONFormatter
from .logs import RequestContextFilter as RequestContextFilter
from .mail.bounces import mark_undeliverable as mark_undeliverable
from .models import ContactMessageMixin as ContactMessageMixin
from .models import DeliveryAttemptMixin as DeliveryAttemptMixin
from .models import Models as Models
from .models import OutboxMixin as OutboxMixin
from .models import SuppressionMixin as SuppressionMixin
from .models import UserMixin as UserMixin
from .models import define_models as define_models
from .settings import Settings as Settings
from .signals import address_suppressed as address_suppressed
from .signals import confirmation_sent as confirmation_sent
from .signals import contact_verified as contact_verified
from .signals import delivery_attempted as delivery_attempted
from .signals import delivery_failed as delivery_failed
from .signals import email_changed as email_changed
from .signals import email_confirmed as email_confirmed
from .signals import login_link_sent as login_link_sent
from .signals import mail_queued as mail_queued
from .signals import password_changed as password_changed
from .signals import password_reset as password_reset
from .signals import rate_limited as rate_limited
from .signals import reset_requested as reset_requested
from .signals import unconfirmed_user_purged as unconfirmed_user_purged
from .signals import user_logged_in as user_logged_in
from .signals import user_registered as user_registered
from .tokens import Purpose as Purpose
from .web.gating import confirmed_required as confirmed_required
