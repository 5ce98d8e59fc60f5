"""Transit's exchange documents, after NCTS's messages, each signed with a signed receipt:

- `TRANSIT_RECORD`, from the office of departure to the nodes of the offices of transit and
  of destination: the movement as released (NCTS IE050 / IE001, the anticipated transit and
  arrival records), then its new versions: written off (IE045), under enquiry. One document
  per MRN, versions numbered; only the MRN's country issues it.
- `TRANSIT_EVENT`, from an office of transit or of destination to the office of departure:
  the frontier crossed (IE118), the goods arrived (IE006), the unloading remarks and control
  results (IE044 / IE018). Addressed to the MRN's country only.
- `TRANSIT_ALERT`, from the office of departure (where the movement's e-seals report) to the
  node of the next office on the itinerary: an e-seal alert (off the route, a long stop, a
  door opened, tampering, silence, arrival elsewhere), so that its officers expect it. Only
  the MRN's country issues it.
"""

from __future__ import annotations

from pathlib import Path

from onewindow.exchange.documents import DocumentType, Issuance
from onewindow.exchange.mapping import BOOL, DATE, DATETIME, DECIMAL, INT, F, group

XSD = Path(__file__).with_name("xsd")
RECORD, EVENT, ALERT = "TRANSIT_RECORD", "TRANSIT_EVENT", "TRANSIT_ALERT"
CROSSED, ARRIVED, CONTROLLED = "IE118", "IE006", "IE018"

RECORD_FIELDS = (
    F("mrn", "MRN"),
    F("departure_country", "DepartureCountryCode"),
    F("status", "Status"),
    F("holder_id", "Holder/ID"),
    F("holder_name", "Holder/Name"),
    group(
        "consignee",
        "Consignee",
        F("id", "ID"),
        F("name", "Name"),
        F("premises", "Premises", optional=True),  # an authorised consignee's
        optional=True,
    ),
    F("departure_office", "DepartureOffice"),
    F("departure_premises", "DeparturePremises", optional=True),  # an authorised consignor's
    F("transit_offices", "TransitOffice", many=True, optional=True),
    F("destination_office", "DestinationOffice"),
    F("released_at", "ReleaseDateTime", DATETIME),
    F("time_limit", "TimeLimitDate", DATE),
    F("seals", "Seal", many=True),
    group(
        "items",
        "Item",
        F("hs_code", "HSCode"),
        F("description", "Description"),
        F("quantity", "Quantity", DECIMAL),
        F("unit", "Unit"),
        F("gross_mass_kg", "GrossMass", DECIMAL),
        many=True,
    ),
    F("note", "Note", optional=True),
)

EVENT_FIELDS = (
    F("mrn", "MRN"),
    F("country", "CountryCode"),
    F("kind", "MessageType"),
    F("office", "OfficeCode"),
    F("at", "EventDateTime", DATETIME),
    F("seals_intact", "SealsIntact", BOOL, optional=True),
    F("discrepancies", "Discrepancies", optional=True),
)

ALERT_FIELDS = (
    F("mrn", "MRN"),
    F("departure_country", "DepartureCountryCode"),
    F("alert_id", "AlertID", INT),
    F("kind", "Kind"),
    F("office", "OfficeCode"),
    F("at", "AlertDateTime", DATETIME),
    F("lat", "Latitude", DECIMAL, optional=True),
    F("lon", "Longitude", DECIMAL, optional=True),
    F("device", "Device", optional=True),
    F("detail", "Detail"),
)

TRANSIT_RECORD = DocumentType(
    RECORD,
    XSD / "transit_record.xsd",
    "urn:onewindow:xsd:transit-record:1",
    "TransitRecord",
    RECORD_FIELDS,
    issuance=Issuance("departure_country", RECORD, "mrn", "departure_country", bound=True),
)
TRANSIT_EVENT = DocumentType(
    EVENT,
    XSD / "transit_event.xsd",
    "urn:onewindow:xsd:transit-event:1",
    "TransitEvent",
    EVENT_FIELDS,
    issuance=Issuance("country", RECORD, "mrn", None),
)
TRANSIT_ALERT = DocumentType(
    ALERT,
    XSD / "transit_alert.xsd",
    "urn:onewindow:xsd:transit-alert:1",
    "TransitAlert",
    ALERT_FIELDS,
    issuance=Issuance("departure_country", RECORD, "mrn", "departure_country", bound=True),
)
DOCUMENT_TYPES = (TRANSIT_RECORD, TRANSIT_EVENT, TRANSIT_ALERT)


def event_id(mrn: str, kind: str, office: str) -> str:
    """The exchange's id of one event of a movement at one office."""
    return f"{mrn}-{kind}-{office}"
