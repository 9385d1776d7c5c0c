"""The dead-letter alert rules parse as Prometheus rule files and name the counters the services export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import shared.messaging.dead_letter_alarm  # noqa: F401  (registers the counters)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _rules(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_dead_letter_alert_rule_names_the_counter_with_the_fields_prometheus_requires() -> None:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    for group in document["groups"]:
        assert isinstance(group["name"], str)
        assert group["rules"]
    rules = {rule["alert"]: rule for rule in _rules(document)}
    assert "mhp_dead_letters_total" in rules["MhpDeadLetter"]["expr"]
    assert "mhp_dead_letter_escalations_total" in rules["MhpDeadLetterEscalationFailed"]["expr"]
    for rule in rules.values():
        assert isinstance(rule["expr"], str)
        assert set(rule["labels"]) >= {"severity"}
        assert "summary" in rule["annotations"]
    exported = {metric.name for metric in REGISTRY.collect()}
    assert {"mhp_dead_letters", "mhp_dead_letter_escalations"} <= exported


def test_kubernetes_prometheus_rule_holds_the_same_rules() -> None:
    rule = yaml.safe_load((DEPLOY / "k8s" / "monitoring" / "dead-letters-rule.yaml").read_text())
    plain = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["spec"] == plain
