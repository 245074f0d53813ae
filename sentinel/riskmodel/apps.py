from django.apps import AppConfig


class RiskModelConfig(AppConfig):
    name = "sentinel.riskmodel"
    label = "riskmodel"
    verbose_name = "Learned risk score"
