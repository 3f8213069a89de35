"""Mail: building messages, the outbox they wait in, and the transports that send them."""
