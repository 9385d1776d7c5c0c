"""Versioned event contracts: the envelope, every v1 event, the registry and routing keys."""

from shared.contracts.envelope import Contract, Envelope, PatientIdentity
from shared.contracts.registry import REGISTRY, ContractError, model_for, parse_event
from shared.contracts.routing import EXCHANGE, binding_key, routing_key
from shared.contracts.v1 import *  # noqa: F403
from shared.contracts.v1 import ALL_V1

__all__ = [  # noqa: RUF022
    "Contract",
    "Envelope",
    "PatientIdentity",
    "REGISTRY",
    "ContractError",
    "model_for",
    "parse_event",
    "EXCHANGE",
    "binding_key",
    "routing_key",
    "ALL_V1",
]
