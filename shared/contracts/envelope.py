"""The envelope every event travels in, and the validated value types it and the payloads share."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from nhs_number.validate import is_valid as nhs_number_is_valid
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from shared.contracts.text import DateOfBirth, check_instant, refuse_numbers
from shared.contracts.text import ShortText as ShortText  # re-exported for the contracts


def _check_nhs_number(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise ValueError("NHS number must be 10 digits")
    # The message must not echo the number: reasons end up in dead-letter headers.
    if not nhs_number_is_valid(digits):
        raise ValueError("NHS number fails its Modulus 11 check digit")
    return digits


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(refuse_numbers), AfterValidator(check_instant)]
"""A timezone-aware instant, normalised to UTC, between 2000 and two years ahead (`shared.contracts.text`).
Naive datetimes and numbers (which pydantic would read as Unix time) are refused."""

NhsNumber = Annotated[str, AfterValidator(_check_nhs_number)]


def _ascii_digits(value: str) -> str:
    # The published patterns use `\d`, which JSON Schema (ECMA-262) reads as 0-9; Python and pydantic
    # would also take other scripts' digits (full-width ones), so an envelope could dodge routing checks.
    if not value.isascii():
        raise ValueError("must be written in ASCII letters and digits")
    return value


PcnCode = Annotated[str, StringConstraints(pattern=r"^U\d{5}$"), AfterValidator(_ascii_digits)]
"""A Primary Care Network code as issued by ODS (U followed by five digits)."""
PracticeOds = Annotated[str, StringConstraints(pattern=r"^[A-Z]\d{5}$"), AfterValidator(_ascii_digits)]
"""A GP practice ODS code (one letter, five digits)."""
OrgCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3,8}$")]
Producer = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3,8}/[a-z0-9][a-z0-9_.-]{0,63}$")]
"""`<organisation code>/<service or system>`, e.g. `RX4/triage` or `Y01234/reception`."""
StaffId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
"""An opaque clinician or staff identifier (never a name)."""


class Contract(BaseModel):
    """Base for every wire model: immutable; unknown fields ignored so additive changes stay compatible."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class PatientIdentity(Contract):
    nhs_number: NhsNumber
    date_of_birth: DateOfBirth


DataT = TypeVar("DataT", bound=Contract)


class Envelope(Contract, Generic[DataT]):
    """Metadata common to every event; `data` holds the event's own payload."""

    # The event type and major version live on each subclass; the registry keys on them.
    EVENT_TYPE: ClassVar[str] = ""
    MAJOR: ClassVar[int] = 1

    event_id: uuid.UUID = Field(description="Unique per event; the deduplication key.")
    event_type: str
    schema_version: Annotated[
        str, StringConstraints(pattern=r"^\d+\.\d+$"), AfterValidator(_ascii_digits)
    ] = "1.0"
    occurred_at: UtcDatetime
    correlation_id: uuid.UUID = Field(
        description="The patient episode: shared by every event of one journey."
    )
    causation_id: uuid.UUID | None = Field(default=None, description="The event that caused this one.")
    producer: Producer
    pcn_code: PcnCode
    practice_ods: PracticeOds
    data: DataT

    def model_post_init(self, context: Any, /) -> None:
        if self.event_type != self.EVENT_TYPE:
            raise ValueError(f"event_type must be {self.EVENT_TYPE!r}")
        if int(self.schema_version.split(".")[0]) != self.MAJOR:
            raise ValueError(f"schema_version must be {self.MAJOR}.x for this model")

    @classmethod
    def create(
        cls,
        data: DataT,
        *,
        producer: str,
        pcn_code: str,
        practice_ods: str,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        """Build a new event with a fresh id; the caller states the journey it belongs to."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            event_type=cls.EVENT_TYPE,
            schema_version=f"{cls.MAJOR}.0",
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            producer=producer,
            pcn_code=pcn_code,
            practice_ods=practice_ods,
            data=data,
        )

    def caused(self, cls: type[EnvelopeT], data: Any, *, producer: str, **overrides: Any) -> EnvelopeT:
        """Build the event this one causes: same episode, same organisation unless overridden."""
        fields: dict[str, Any] = {
            "producer": producer,
            "pcn_code": self.pcn_code,
            "practice_ods": self.practice_ods,
            "correlation_id": self.correlation_id,
            "causation_id": self.event_id,
        }
        fields.update(overrides)
        return cls.create(data, **fields)

    @property
    def routing_key(self) -> str:
        from shared.contracts.routing import routing_key

        return routing_key(self.event_type, self.MAJOR, self.pcn_code, self.practice_ods)


EnvelopeT = TypeVar("EnvelopeT", bound=Envelope[Any])
