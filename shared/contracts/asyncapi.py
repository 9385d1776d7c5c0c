"""The AsyncAPI 3.0 document of the event catalogue, generated from the contract models.

`python -m shared.contracts.asyncapi > docs/asyncapi.yaml`; a test keeps the committed file current.
Payload schemas come from the pydantic models, so the document cannot drift from what is validated.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from shared.contracts.envelope import Envelope
from shared.contracts.registry import REGISTRY
from shared.contracts.routing import EXCHANGE, routing_key

# Who publishes each event (BRIEF.md's catalogue); the trust's services and the PCN's systems.
PUBLISHED_BY: dict[str, tuple[str, ...]] = {
    "call.received": ("practice systems",),
    "call.triaged": ("triage",),
    "case.escalated": ("triage", "booking", "referrals"),
    "session.scheduled": ("booking",),
    "session.cancelled": ("booking",),
    "appointment.booked": ("booking", "practice systems (direct booking)"),
    "appointment.cancelled": ("booking", "practice systems"),
    "appointment.waitlisted": ("booking",),
    "appointment.attended": ("practice systems",),
    "appointment.dna": ("practice systems", "booking"),
    "dna.followed_up": ("referrals",),
    "referral.made": ("referrals",),
    "referral.accepted": ("referrals", "receiving services"),
    "referral.declined": ("referrals", "receiving services"),
    "referral.completed": ("referrals", "receiving services"),
    "signpost.recorded": ("referrals",),
}


def _message_name(model: type[Envelope[Any]]) -> str:
    return f"{model.__name__}V{model.MAJOR}"


def _channel_name(model: type[Envelope[Any]]) -> str:
    return f"{model.EVENT_TYPE}.v{model.MAJOR}"


def build_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for (event_type, major), model in sorted(REGISTRY.items()):
        name = _message_name(model)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for definition, body in schema.pop("$defs", {}).items():
            schemas[definition] = body
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.model_fields["data"].annotation.__doc__ or "").strip() or event_type,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "bindings": {"amqp": {"deliveryMode": 2, "messageType": event_type}},
        }
        channel = _channel_name(model)
        channels[channel] = {
            "address": routing_key(event_type, major, "{pcn_code}", "{practice_ods}"),
            "description": f"Published by: {', '.join(PUBLISHED_BY.get(event_type, ('?',)))}.",
            "parameters": {
                "pcn_code": {"description": "PCN code; broker topic permissions key on it."},
                "practice_ods": {"description": "GP practice ODS code."},
            },
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": {"name": EXCHANGE, "type": "topic", "durable": True}}
            },
        }
        operations[f"publish_{event_type.replace('.', '_')}_v{major}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "MHP pathway events",
            "version": "1.0.0",
            "description": (
                "Every message is one envelope (event_id, event_type, schema_version, occurred_at, "
                "correlation_id, causation_id, producer, pcn_code, practice_ods, data). AMQP message_id = "
                "event_id, correlation_id = correlation_id, type = event_type; persistent, confirmed."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=110)


if __name__ == "__main__":
    sys.stdout.write(render())
