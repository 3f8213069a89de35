"""The contact form: messages held until their sender proves the address."""

from __future__ import annotations

from flask import Response
from flask_login import current_user

from ..flows.contact import submit_contact_message, verify_contact_message
from ..guards import limit_address, limit_ip
from .blueprint import api_bp, documented
from .responses import json_response, parse_body
from .schemas import ContactAnswer, ContactRequest, Error, Message, TokenRequest


@api_bp.post("/contact")
@documented(body=ContactRequest, responses={202: ContactAnswer}, tags=("contact",))
def contact() -> Response:
    """Submit a message; it is delivered once its sender clicks the mailed link."""
    limit_ip("contact")
    body = parse_body(ContactRequest)
    limit_address("contact", body.email)
    user = current_user if current_user.is_authenticated else None
    submitted = submit_contact_message(body.name, body.email, body.message, user=user)
    if submitted.held:
        text = "We sent a link to the address; the message is delivered once it is opened."
    else:
        text = "Thank you: your message was received."
    return json_response(ContactAnswer(message=text, held=submitted.held), 202)


@api_bp.post("/contact/verify")
@documented(body=TokenRequest, responses={200: Message, 409: Error, 410: Error}, tags=("contact",))
def verify_contact() -> Response:
    """Release the message a contact-verification token names, once."""
    verify_contact_message(parse_body(TokenRequest).token)
    return json_response(Message(message="Thank you: your message was received."))
