"""Exchange: signed documents between the nodes of the federation.

The exchange knows document types, schemas, envelopes, receipts and certificates; it knows
nothing of declarations or certificates of origin as business objects. Each domain declares
its document types (`Domain.documents`, with their XSDs) and builds its documents with
`documents`; the exchange carries them: `send` queues a document for a partner in the
caller's transaction (the outbox), the delivery worker (`tasks`) sends it after commit, and
`receive` verifies what a partner sent, applies it through the handler a domain
registered for its document type (`register_handler`) and answers with a signed receipt.
"""

from onewindow.exchange.documents import (
    DocumentType,
    Issuance,
    Requires,
    document_type,
    document_types,
    from_xml,
    register_document_types,
    to_xml,
    validate,
)
from onewindow.exchange.documents import parse as parse_document
from onewindow.exchange.envelope import (
    Header,
    Opened,
    Reason,
    Receipt,
    ReceiptStatus,
    SignedReceipt,
    Signer,
    check_freshness,
    digest_of,
    message_id_of,
    new_header,
    open_envelope,
    open_receipt,
    reasons_from,
    seal,
    seal_with_digest,
    sign_receipt,
    verify_envelope,
)
from onewindow.exchange.federation import load_authority, save_authority
from onewindow.exchange.repository import messages, partner_active, stats
from onewindow.exchange.service import (
    Handler,
    Incoming,
    Outcome,
    Queued,
    receive,
    receive_many,
    register_batch_scope,
    register_handler,
    retry,
    send,
    send_many,
    sync_partners,
    unregister_handler,
)
from onewindow.exchange.trust import TrustStore
from onewindow.exchange.xmlsafe import parse as parse_xml

__all__ = [
    "DocumentType",
    "Handler",
    "Header",
    "Incoming",
    "Issuance",
    "Opened",
    "Outcome",
    "Queued",
    "Reason",
    "Receipt",
    "ReceiptStatus",
    "Requires",
    "SignedReceipt",
    "Signer",
    "TrustStore",
    "check_freshness",
    "digest_of",
    "document_type",
    "document_types",
    "from_xml",
    "load_authority",
    "message_id_of",
    "messages",
    "new_header",
    "open_envelope",
    "open_receipt",
    "parse_document",
    "parse_xml",
    "partner_active",
    "reasons_from",
    "receive",
    "receive_many",
    "register_batch_scope",
    "register_document_types",
    "register_handler",
    "retry",
    "save_authority",
    "seal",
    "seal_with_digest",
    "send",
    "send_many",
    "sign_receipt",
    "stats",
    "sync_partners",
    "to_xml",
    "unregister_handler",
    "validate",
    "verify_envelope",
]
