"""The base model: snake_case in Python, the spec's camelCase in JSON."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Every domain model: accepts both spellings, serialises with the spec's camelCase names."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
        json_schema_serialization_defaults_required=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The camelCase JSON shape the API and the stored JSON columns use."""
        return self.model_dump(mode="json", by_alias=True)


Timestamp = datetime
