"""Rules on the model's fields that Sentinel installs, in shadow: officers see what the score
would flag beside the rules before anyone decides what a score means (docs/models.md)."""

from __future__ import annotations

INSTALL_COMMENT = "Installed with Sentinel, in shadow (docs/models.md)."

RULES = (
    {
        "code": "model_high_risk_score",
        "name": "Learned risk score is very high",
        "description": (
            "The live model gives 0.9 or more. Shadow until officers have compared its hits "
            "with the rules' on their own traffic; no model live: never fires."
        ),
        "expression": "model.score != null and model.score >= 0.9",
        "severity": "high",
        "score": 60,
        "outcome": "review",
    },
    {
        "code": "model_unusual_for_partner",
        "name": "Unusual for the partner's customers",
        "description": (
            "A payment of 1,000 or more that the isolation forest of its partner segment finds "
            "very unusual (0.7 or more). Shadow: anomaly is not suspicion."
        ),
        "expression": "model.anomaly != null and model.anomaly >= 0.7 and amount >= 1000",
        "severity": "medium",
        "score": 30,
        "outcome": "alert",
    },
)
