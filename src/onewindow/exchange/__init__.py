"""Exchange: signed documents between the nodes of the federation.

The exchange knows document types, schemas, envelopes, receipts and certificates; it knows
nothing of declarations or certificates of origin as business objects. Domains build their
documents with `documents`, and the exchange carries them: `send` queues a document for a
partner in the caller's transaction (the outbox), the delivery worker (`tasks`) sends it after
commit, and `receive` verifies what a partner sent, applies it through the handler a domain
registered for its document type (`register_handler`) and answers with a signed receipt.
"""

from onewindow.exchange.criteria import (
    Criterion,
    Kind,
    check_fob,
    check_form_d,
    check_retroactive,
    parse_criterion,
)
from onewindow.exchange.documents import (
    DOCUMENT_TYPES,
    ISSUANCE,
    DocumentType,
    Issuance,
    acdd_from_xml,
    acdd_to_xml,
    document_type,
    form_d_from_xml,
    form_d_to_xml,
    from_xml,
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
from onewindow.exchange.service import (
    Handler,
    Incoming,
    Outcome,
    receive,
    receive_many,
    register_batch_scope,
    register_handler,
    retry,
    send,
    sync_partners,
    unregister_handler,
)
from onewindow.exchange.trust import TrustStore
from onewindow.exchange.xmlsafe import parse as parse_xml

__all__ = [
    "DOCUMENT_TYPES",
    "ISSUANCE",
    "Criterion",
    "DocumentType",
    "Handler",
    "Header",
    "Incoming",
    "Issuance",
    "Kind",
    "Opened",
    "Outcome",
    "Reason",
    "Receipt",
    "ReceiptStatus",
    "SignedReceipt",
    "Signer",
    "TrustStore",
    "acdd_from_xml",
    "acdd_to_xml",
    "check_fob",
    "check_form_d",
    "check_freshness",
    "check_retroactive",
    "digest_of",
    "document_type",
    "form_d_from_xml",
    "form_d_to_xml",
    "from_xml",
    "load_authority",
    "message_id_of",
    "new_header",
    "open_envelope",
    "open_receipt",
    "parse_criterion",
    "parse_document",
    "parse_xml",
    "reasons_from",
    "receive",
    "receive_many",
    "register_batch_scope",
    "register_handler",
    "retry",
    "save_authority",
    "seal",
    "seal_with_digest",
    "send",
    "sign_receipt",
    "sync_partners",
    "to_xml",
    "unregister_handler",
    "validate",
    "verify_envelope",
]
