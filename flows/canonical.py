"""The pipeline's canonical entities and fields.

Every source maps its own columns onto these fields in the sources file; the quality suites, the
privacy policy and the dbt staging models are written against these names only, which is why a new
source system needs a YAML entry and no code.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITIES: tuple[str, ...] = ("customer", "order", "ticket", "survey", "consent", "dsr")


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = False
    pii: bool = False
    free_text: bool = False
    doc: str = ""


def _f(name: str, required: bool = False, pii: bool = False, free_text: bool = False, doc: str = "") -> Field:
    return Field(name, required, pii, free_text, doc)


# record_id is the source's primary key; customer_id on facts is the referenced customer's record id
# in the system named by customer_system (taken from the row or from the source's `references`).
FIELDS: dict[str, tuple[Field, ...]] = {
    "customer": (
        _f("record_id", True, doc="source primary key"),
        _f("name", pii=True),
        _f("given_name", pii=True, doc="given name, where a source keeps it apart from the family name (Latin names)"),
        _f("family_name", pii=True, doc="family name (surname), where a source keeps it apart from the given name"),
        _f("gender", doc="M / F / unknown, any source spelling"),
        _f("birth_date", pii=True),
        _f("mobile", pii=True),
        _f("landline", pii=True),
        _f("email", pii=True),
        _f("id_number", pii=True, doc="mainland resident ID (18 digits)"),
        _f(
            "document_number",
            pii=True,
            doc="any other identity document's number (passport, social-security number, HK/Macau/Taiwan permit)",
        ),
        _f("province"),
        _f("city"),
        _f("address", pii=True),
        _f("postal_code", pii=True, doc="postcode of the address (邮编, ZIP)"),
        _f("marketing_consent", doc="yes / no / unknown, any source spelling"),
        _f("member_level"),
        _f("channel"),
        _f("created_at"),
        _f("updated_at"),
    ),
    "order": (
        _f("record_id", True),
        _f("customer_system"),
        _f("customer_id", True),
        _f("ordered_at", True),
        _f("amount", True),
        _f("status"),
        _f("channel"),
        _f("store"),
        _f("updated_at"),
    ),
    "ticket": (
        _f("record_id", True),
        _f("customer_system"),
        _f("customer_id", True),
        _f("channel"),
        _f("category"),
        _f("is_complaint"),
        _f("opened_at", True),
        _f("first_response_at"),
        _f("resolved_at"),
        _f("notes", pii=True, free_text=True),
        _f("updated_at"),
    ),
    "survey": (
        _f("record_id", True),
        _f("customer_system"),
        _f("customer_id", True),
        _f("channel"),
        _f("surveyed_at", True),
        _f("nps"),
        _f("csat"),
        _f("comment", pii=True, free_text=True),
        _f("updated_at"),
    ),
    "consent": (
        _f("record_id", True),
        _f("customer_system"),
        _f("customer_id", True),
        _f("marketing_consent", True),
        _f("channel"),
        _f("consented_at", True),
    ),
    "dsr": (
        _f("record_id", True),
        _f("customer_system"),
        _f("customer_id", True),
        _f("request_type", True, doc="access / correction / erasure"),
        _f("field", doc="canonical customer field to correct"),
        _f("new_value", pii=True),
        _f("requested_at", True),
    ),
}


def field_names(entity: str) -> list[str]:
    """Canonical field names of an entity, in their declared order."""
    return [f.name for f in FIELDS[entity]]


def required_fields(entity: str) -> list[str]:
    return [f.name for f in FIELDS[entity] if f.required]
