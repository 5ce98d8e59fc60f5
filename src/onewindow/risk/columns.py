"""The canonical frame's column names (the contract is in `frame.py`). Kept free of pandas
so that the node can build live rows without importing it."""

CODE_COLUMNS: tuple[str, ...] = (
    "office",
    "importer",
    "declarant",
    "seller",
    "courier",
    "hs6",
    "origin",
    "departure",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_type",
    "origin_indicator",
)
NUMBER_COLUMNS: tuple[str, ...] = ("net_mass", "value", "tax_rate")
OUTCOME_COLUMNS: tuple[str, ...] = ("label", "revenue")
COLUMNS: tuple[str, ...] = (
    "declaration_id",
    "date",
    *CODE_COLUMNS,
    *NUMBER_COLUMNS,
    *OUTCOME_COLUMNS,
)
# What a live declaration must carry to be scored; outcomes are unknown at lodgement.
SCORING_COLUMNS: tuple[str, ...] = ("declaration_id", "date", *CODE_COLUMNS, *NUMBER_COLUMNS)
