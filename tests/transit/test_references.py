"""MRNs and GRNs (their check character) and itineraries by road: pure rules."""

from __future__ import annotations

from onewindow.transit import itinerary, mrn


def test_a_reference_has_eighteen_characters_and_its_check_character() -> None:
    reference = mrn.make(2026, "TH", "BKK0000000001")
    assert reference == "26THBKK00000000012" and mrn.is_valid(reference)
    assert mrn.country(reference) == "TH"
    assert mrn.check_character("CSQU305438") == "3"  # ISO 6346's own example
    assert not mrn.is_valid("26THBKK00000000013") and not mrn.is_valid("26thBKK00000000012")


def test_a_typo_or_two_swapped_neighbours_is_caught() -> None:
    reference = mrn.make(2026, "VN", "HAN0000004721")
    typo = reference[:14] + "5" + reference[15:]
    swapped = reference[:13] + reference[14] + reference[13] + reference[15:]
    assert reference[13:15] != reference[14:12:-1]  # the two swapped differ
    assert not mrn.is_valid(typo) and not mrn.is_valid(swapped)


def test_itineraries_follow_land_borders() -> None:
    assert itinerary.gaps(["TH", "MY", "SG"]) == []
    assert itinerary.gaps(["VN", "LA", "TH", "MY"]) == []
    assert itinerary.gaps(["VN", "TH"]) == [("VN", "TH")]
    assert itinerary.gaps(["TH", "SG"]) == [("TH", "SG")]
    assert itinerary.gaps(["TH", "TH", "MY"]) == []  # two offices in one country
    assert itinerary.gaps(["MY", "PH"]) == [("MY", "PH")]  # no road to the Philippines
    assert itinerary.office_country("MYPKG") == "MY"
