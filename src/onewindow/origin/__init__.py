"""Origin: certificates of origin (ATIGA Form D) and preference decisions."""

from onewindow.origin.criteria import (
    Criterion,
    Kind,
    check_fob,
    check_form_d,
    check_retroactive,
    parse_criterion,
)
from onewindow.origin.documents import form_d_from_xml, form_d_to_xml
from onewindow.origin.models import Certificate, CertificateItem
from onewindow.origin.schemas import CertificateCreate, CertificateDetail, CertificateRead
from onewindow.origin.service import (
    Claim,
    Decision,
    decide,
    get_certificate,
    read_certificate,
    record_certificate,
    unuse,
    use,
)

__all__ = [
    "Certificate",
    "CertificateCreate",
    "CertificateDetail",
    "CertificateItem",
    "CertificateRead",
    "Claim",
    "Criterion",
    "Decision",
    "Kind",
    "check_fob",
    "check_form_d",
    "check_retroactive",
    "decide",
    "form_d_from_xml",
    "form_d_to_xml",
    "get_certificate",
    "parse_criterion",
    "read_certificate",
    "record_certificate",
    "unuse",
    "use",
]
