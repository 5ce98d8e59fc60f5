"""Origin: certificates of origin (ATIGA Form D) and preference decisions."""

from onewindow.origin.models import Certificate, CertificateItem
from onewindow.origin.schemas import CertificateCreate, CertificateRead
from onewindow.origin.service import (
    Claim,
    Decision,
    decide,
    get_certificate,
    record_certificate,
    use,
)

__all__ = [
    "Certificate",
    "CertificateCreate",
    "CertificateItem",
    "CertificateRead",
    "Claim",
    "Decision",
    "decide",
    "get_certificate",
    "record_certificate",
    "use",
]
